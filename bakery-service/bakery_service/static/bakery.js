// The bakery's web page: every action is a call of bakery-service's API with the suite's token, sent in the
// Authorization header only (never in a URL). No framework and no build step: the DOM, fetch and <dialog>.
"use strict";

const TOKEN_KEY = "bakery.token";
const PAGE_SIZE = 20;
// Polling of the orders and integrations: quick while a ready notice is on its way, slower while nothing
// changes, slower still after failures; paused while the tab is hidden.
const POLL = { pending: 2000, idle: 5000, pendingMax: 10000, idleMax: 20000, max: 60000, growth: 1.5 };

const $ = (id) => document.getElementById(id);

const state = {
  cakes: [],
  orders: new Map(), // id -> order, the page on screen
  page: { total: 0, offset: 0 },
  search: { customer: "", state: "", placed_from: "", placed_to: "" },
  ordersRequest: 0, // the newest orders request: an older answer arriving late is dropped
  expiryTimer: null,
};

// ---------------------------------------------------------------------------------------------------------
// Words: the API's problem+json answers said the bakery's way.

const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);
const plural = (count, one, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function unitClash(ingredient, recipeUnit) {
  const name = capitalise(ingredient);
  const verb = /s$/i.test(ingredient) ? "are" : "is";
  return recipeUnit === "unit"
    ? `${name} ${verb} counted in units, not grams: write a whole number, like “${ingredient} 2”.`
    : `${name} ${verb} weighed in grams, not counted: write it in grams, like “${ingredient} 50 g”.`;
}

// Refusals the API names with a code (409s and 404s of the bakery's rules).
const CODE_WORDS = {
  unit_mismatch: (p) => unitClash(p.ingredient, p.recipe_unit),
  cake_exists: (p) => `There is already a cake with this name (${p.cake_id}). Choose another name.`,
  cake_in_use: (p) => {
    const ids = (p.open_orders || []).map((id) => `#${id}`).join(", ");
    return `This cake is still needed by open ${(p.open_orders || []).length === 1 ? "order" : "orders"} ${ids}. `
      + "Mark them ready or cancel them first.";
  },
  unknown_recipe: () => "That cake no longer exists. Choose another cake.",
  order_cancelled: (p) => `Order #${p.order_id} was cancelled, so it can't be marked ready.`,
  developer_without_github: () => "A developer needs a GitHub username, so they can be given access.",
  duplicate_ingredient: (p) => `${capitalise(p.ingredient)} is listed twice. Put it on one line.`,
};

const TEXT_FIELDS = {
  customer: ["the customer's name", 200],
  name: ["the cake's name", 200],
  firstName: ["the first name", 100],
  lastName: ["the last name", 100],
  email: ["your e-mail address", 320],
  password: ["your password", 1024],
};

// One sentence for one entry of a 422's errors[], by the field it is about and pydantic's error type.
function fieldSentence(path, error) {
  const [top, ingredient] = path.split(".");
  if (top === "persons") return "Persons per cake: enter a whole number from 1 to 1,000.";
  if (top === "quantity") return "Cakes: enter a whole number from 1 to 1,000.";
  if (top === "recipe") return "Choose a cake from the list.";
  if (top === "githubUsername") {
    if (error.type === "string_too_long") return "A GitHub username has at most 39 characters.";
    return "A GitHub username has only letters, digits and single hyphens, and no hyphen at either end.";
  }
  if (top === "ingredients" || top === "extra_ingredients") {
    if (!ingredient) {
      if (error.type === "too_short" || error.type === "missing") return "Add at least one ingredient.";
      if (error.type === "too_long") return "Use at most 50 ingredients.";
      return "Check the ingredients: one per line, a name and an amount.";
    }
    const name = capitalise(ingredient);
    if (error.type === "multiple_of") return `${name}: grams are kept to the milligram, so use at most 3 decimals (like 12.345 g).`;
    if (error.type === "greater_than") return `${name}: the amount must be more than 0.`;
    if (error.type === "less_than_equal") return `${name}: the amount can be at most 100,000.`;
    if (error.type === "string_too_long") return "Ingredient names have at most 100 characters.";
    return `${name}: write the amount as a count (3) or in grams (12.5 g).`;
  }
  const known = TEXT_FIELDS[top];
  if (known) {
    const [words, max] = known;
    if (error.type === "string_too_short" || error.type === "missing") return `Enter ${words}.`;
    if (error.type === "string_too_long") return `${capitalise(words)} is too long: at most ${max.toLocaleString("en")} characters.`;
    if (error.type === "string_pattern_mismatch") return `${capitalise(words)} needs at least one letter or digit.`;
    return `Check ${words}.`;
  }
  return "Check this field.";
}

// "body.extra_ingredients.eggs.constrained-float" -> "extra_ingredients.eggs" (the union member dropped).
function fieldPath(loc) {
  return String(loc || "").replace(/^(body|query)\.?/, "").replace(/\.(constrained-\w+|int|float|str|bool)$/, "");
}

function statusSentence(error, words) {
  const seconds = error.retryAfter;
  switch (true) {
    case error.status === 0: return "The bakery system can't be reached. Check the connection and try again.";
    case error.status === 401: return words.unauthorized || "Your session has ended. Please sign in again.";
    case error.status === 403: return "Your account isn't allowed to do this.";
    case error.status === 404: return words.notFound || "This no longer exists. The page has been refreshed.";
    case error.status === 409: return words.conflict || "Someone changed this meanwhile. The page has been refreshed.";
    case error.status === 413: return "That is more text than the bakery system takes. Shorten it and try again.";
    case error.status === 429:
      return `${words.tooMany || "Too many attempts."} Please wait ${seconds ? plural(seconds, "second") : "a minute"} and try again.`;
    case error.status >= 500: return words.unavailable || "The bakery system isn't answering right now. Please try again in a moment.";
    default: return "The bakery system couldn't use that. Reload the page and try again.";
  }
}

// Which input each body field of a form comes from.
const ORDER_FIELDS = {
  customer: "order-customer", recipe: "order-recipe", persons: "order-persons",
  quantity: "order-quantity", extra_ingredients: "order-extras",
};
const CAKE_FIELDS = { name: "cake-name", ingredients: "cake-ingredients" };
const EMPLOYEE_FIELDS = { firstName: "employee-first", lastName: "employee-last", githubUsername: "employee-github" };
const LOGIN_FIELDS = { email: "login-email", password: "login-password" };

// An API refusal as { byField: Map(input id -> sentence), message: sentence | null }. fields maps the top name
// of a body field ("extra_ingredients") to the id of the input it came from; words overrides the defaults.
function explain(error, fields = {}, words = {}) {
  const result = { byField: new Map(), message: null };
  const add = (path, text) => {
    const id = fields[path.split(".")[0]];
    if (!id) {
      result.message = result.message && !result.message.includes(text) ? `${result.message} ${text}` : text;
      return;
    }
    const known = result.byField.get(id);
    if (!known) result.byField.set(id, text);
    else if (!known.includes(text)) result.byField.set(id, `${known} ${text}`);
  };
  const problem = error.problem || {};
  const entries = Array.isArray(problem.errors) ? problem.errors : [];
  if (problem.code && CODE_WORDS[problem.code]) {
    add(fieldPath(entries[0] && entries[0].loc), CODE_WORDS[problem.code](problem));
    return result;
  }
  if (error.status === 422 && entries.length) {
    // A union's type errors say least ("not an integer" next to "not a multiple of 0.001"): they go last.
    const vague = (e) => (/_type$/.test(e.type) ? 1 : 0);
    const seen = new Set();
    for (const entry of [...entries].sort((a, b) => vague(a) - vague(b))) {
      let path = fieldPath(entry.loc);
      if (!path && entry.type === "value_error" && fields.githubUsername) path = "githubUsername";
      if (seen.has(path.split(".").slice(0, 2).join("."))) continue; // one sentence per ingredient
      seen.add(path.split(".").slice(0, 2).join("."));
      add(path, path === "githubUsername" && entry.type === "value_error"
        ? CODE_WORDS.developer_without_github() : fieldSentence(path, entry));
    }
    return result;
  }
  result.message = statusSentence(error, words);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

function token() { return localStorage.getItem(TOKEN_KEY); }

// body: a JSON text, written by hand where the number types matter (grams are floats, units integers).
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token() && path !== "/ui/login") headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiError(0, null);
  }
  const answer = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return answer;
  const retryAfter = parseInt(response.headers.get("Retry-After") || "", 10) || null;
  const error = new ApiError(response.status, answer, retryAfter);
  if (response.status === 401 && path !== "/ui/login") {
    signOut("Your session has ended. Please sign in again.");
    error.handled = true;
  }
  throw error;
}

// ---------------------------------------------------------------------------------------------------------
// Showing errors and news where they belong

function announce(text) {
  // Emptied first so that the same sentence twice is announced twice.
  $("announcer").textContent = "";
  window.setTimeout(() => { $("announcer").textContent = text; }, 50);
}

function clearErrors(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const slot of form.querySelectorAll(".field-error, .form-error")) slot.textContent = "";
}

// Field sentences next to their inputs (focus on the first), anything else in the form's own alert.
function showFormErrors(form, explained, formErrorId) {
  let first = null;
  for (const [id, text] of explained.byField) {
    const input = $(id);
    $(`${id}-error`).textContent = text;
    input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  if (explained.message) $(formErrorId).textContent = explained.message;
  if (first) first.focus();
}

function friendlyFailure(error, words = {}) {
  return error.handled ? null : explain(error, {}, words).message;
}

// ---------------------------------------------------------------------------------------------------------
// Ingredient lines: "chocolate 33.5 g" (grams) or "eggs 1" (a count)

class LineError extends Error {}

function parseLines(text) {
  const items = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const match = line.match(/^(.+?)\s*:?\s+(\d+(?:[.,]\d+)?)\s*(g|grams?|units?)?$/i);
    if (!match) {
      throw new LineError(`“${line}” isn't understood: write a name and an amount, like “peanuts 10” or “cream 50 g”.`);
    }
    const amount = match[2].replace(",", ".");
    const [whole, fraction = ""] = amount.split(".");
    const saysUnits = /^u/i.test(match[3] || "");
    if (saysUnits && fraction) throw new LineError(`“${line}”: a count is a whole number.`);
    if (fraction.length > 3) throw new LineError(`“${line}”: grams are kept to the milligram, so use at most 3 decimals.`);
    const grams = /^g/i.test(match[3] || "") || Boolean(fraction);
    const milli = parseInt(whole, 10) * 1000 + parseInt(fraction.padEnd(3, "0"), 10);
    items.push({ name: match[1].trim().toLowerCase(), amount, unit: grams ? "g" : "unit", milli });
  }
  return items;
}

// JSON numbers written by hand: grams always carry a decimal point, counts never do.
function ingredientsJson(items) {
  const parts = items.map(({ name, amount, unit }) => {
    const number = unit === "g" ? (amount.includes(".") ? amount : `${amount}.0`) : String(parseInt(amount, 10));
    return `${JSON.stringify(name)}: ${number}`;
  });
  return `{${parts.join(", ")}}`;
}

function formatAmount(value, unit) { return unit === "g" ? `${value} g` : `${value}`; }

// A count field sent as typed: a whole number as a JSON number, anything else as text (the API says why).
function countValue(text) { return /^\d{1,7}$/.test(text.trim()) ? Number(text.trim()) : text; }

// ---------------------------------------------------------------------------------------------------------
// Small DOM helpers

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// A button whose visible words are short and whose accessible name says what it acts on.
function actionButton(visible, object, props) {
  return el("button", { type: "button", ...props }, visible, el("span", { class: "visually-hidden", text: ` ${object}` }));
}

// Live regions speak when their text is set, even to the same words: set only what changed.
function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

function fact(term, ...value) { return el("div", {}, el("dt", { text: term }), el("dd", {}, ...value)); }

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
function when(iso) { return iso ? dateTime.format(new Date(iso)) : ""; }

// Runs a user's action: its failure is shown where the action is, never swallowed.
async function attempt(action, onError) {
  try {
    await action();
  } catch (error) {
    if (error instanceof ApiError || error instanceof LineError) onError(error);
    else { onError(new ApiError(-1, null)); console.error(error); } // eslint-disable-line no-console
  }
}

// ---------------------------------------------------------------------------------------------------------
// Confirmation of destructive actions

function confirmAction({ title, text, yes, keep }) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = yes;
  $("confirm-keep").textContent = keep;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
    $("confirm-keep").focus(); // the safe choice is the default
  });
}

// ---------------------------------------------------------------------------------------------------------
// Session

function tokenClaims(value) {
  try {
    const payload = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload));
  } catch {
    return null;
  }
}

function signedIn() { return Boolean(token()); }

function showView() {
  const inside = signedIn();
  $("signin-view").hidden = inside;
  $("app-view").hidden = !inside;
  $("account").hidden = !inside;
  const claims = inside ? tokenClaims(token()) : null;
  // fleet-api's tokens carry the person's e-mail beside their id (sub).
  const who = claims && (claims.email || claims.sub);
  $("account-name").textContent = who ? `Signed in as ${who}` : "Signed in";
}

function startSession(value) {
  const claims = tokenClaims(value);
  if (!claims || (claims.exp && claims.exp * 1000 <= Date.now())) return false;
  localStorage.setItem(TOKEN_KEY, value);
  window.clearTimeout(state.expiryTimer);
  if (claims.exp) {
    const left = Math.min(claims.exp * 1000 - Date.now(), 2 ** 31 - 1);
    state.expiryTimer = window.setTimeout(() => signOut("Your session has ended. Please sign in again."), left);
  }
  return true;
}

function signOut(message) {
  const wasIn = signedIn();
  localStorage.removeItem(TOKEN_KEY);
  window.clearTimeout(state.expiryTimer);
  poller.stop();
  state.orders.clear();
  state.page = { total: 0, offset: 0 };
  $("order-list").replaceChildren();
  $("signin-message").textContent = message || "";
  showView();
  if (wasIn) $("signin-title").focus();
}

async function enter(message) {
  showView();
  $("signin-message").textContent = "";
  $("new-order-title").focus();
  announce(message);
  await loadAll();
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const email = $("login-email").value.trim();
  const password = $("login-password").value;
  const missing = new Map();
  if (!email) missing.set("login-email", "Enter your e-mail address.");
  if (!password) missing.set("login-password", "Enter your password.");
  if (missing.size) { showFormErrors(form, { byField: missing, message: null }, "login-error"); return; }
  const submit = $("login-submit");
  submit.disabled = true;
  attempt(async () => {
    const answer = await api("POST", "/ui/login", JSON.stringify({ email, password }));
    submit.disabled = false;
    $("login-password").value = "";
    if (!startSession(answer.access_token)) throw new ApiError(401, null);
    await enter(`Signed in as ${email}.`);
  }, (error) => {
    const explained = explain(error, LOGIN_FIELDS, {
      unauthorized: "That e-mail and password don't match an account. Check them and try again.",
      tooMany: "Too many sign-in attempts.",
      unavailable: "Signing in isn't possible right now. Please try again in a moment.",
    });
    showFormErrors(form, explained, "login-error");
    if (error.status === 429 && error.retryAfter) holdButton(submit, error.retryAfter);
    else submit.disabled = false;
    if (!explained.byField.size) $("login-password").focus();
  });
});

// After a 429 the button waits as long as the login service asked.
function holdButton(button, seconds) {
  button.disabled = true;
  window.setTimeout(() => { button.disabled = false; }, seconds * 1000);
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const value = $("token-input").value.trim();
  const refuse = (text) => showFormErrors(form, { byField: new Map([["token-input", text]]), message: null }, "token-input-error");
  if (!startSession(value)) { refuse("That is not an access token, or it has expired."); return; }
  attempt(async () => {
    await api("GET", "/cakes");
    $("token-input").value = "";
    await enter("Signed in.");
  }, (error) => {
    if (error.status === 401) {
      $("token-form").closest("details").open = true;
      refuse("That access token isn't accepted. It may have expired.");
    } else {
      localStorage.removeItem(TOKEN_KEY);
      refuse(explain(error).message);
    }
  });
});

$("logout").addEventListener("click", () => {
  signOut("You are signed out.");
});

// ---------------------------------------------------------------------------------------------------------
// Cakes

async function loadCakes() {
  state.cakes = (await api("GET", "/cakes")).items;
  renderCakes();
}

function renderCakes() {
  const list = $("cake-list");
  list.replaceChildren(...state.cakes.map(cakeCard));
  $("cakes-empty").hidden = state.cakes.length > 0;
  const select = $("order-recipe");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "", text: state.cakes.length ? "Choose a cake" : "No cakes yet" }),
    ...state.cakes.map((c) => new Option(c.name, c.id)),
  );
  if (state.cakes.some((c) => c.id === chosen)) select.value = chosen;
  else if (state.cakes.length === 1) select.value = state.cakes[0].id;
  $("order-recipe-hint").hidden = state.cakes.length > 0;
  updatePreview();
}

function cakeCard(cake) {
  const recipe = Object.entries(cake.ingredients).map(([name, amount]) => el("li", { text: `${name} ${formatAmount(amount, cake.units[name])}` }));
  const errorId = `cake-${cake.id}-error`;
  return el("li", { class: "card cake", dataset: { cake: cake.id } },
    el("article", { "aria-labelledby": `cake-${cake.id}-title`, tabindex: "-1" },
      el("h3", { id: `cake-${cake.id}-title`, text: cake.name }),
      el("p", { class: "muted", text: `Id: ${cake.id}` }),
      el("p", { text: "For one person:" }),
      el("ul", { class: "ingredients" }, ...recipe),
      el("p", { class: "card-error", id: errorId, role: "alert" }),
      el("div", { class: "actions" },
        actionButton("Delete", `cake ${cake.name}`, { class: "danger-outline", "aria-describedby": errorId, onclick: () => deleteCake(cake) }))));
}

async function deleteCake(cake) {
  const card = document.querySelector(`[data-cake="${CSS.escape(cake.id)}"]`);
  const errorSlot = $(`cake-${cake.id}-error`);
  errorSlot.textContent = "";
  const sure = await confirmAction({
    title: `Delete the cake “${cake.name}”?`,
    text: "Its recipe is removed. Orders already placed keep their ingredients.",
    yes: "Delete cake",
    keep: "Keep cake",
  });
  if (!sure) { card.querySelector("button").focus(); return; }
  await attempt(async () => {
    await api("DELETE", `/cakes/${encodeURIComponent(cake.id)}`);
    announce(`Cake ${cake.name} deleted.`);
    await loadCakes();
    $("cakes-title").focus();
  }, (error) => {
    const text = friendlyFailure(error, { notFound: "This cake was already deleted." });
    if (!text) return;
    errorSlot.textContent = text;
    if (error.status === 404) loadCakes();
    card.querySelector("button").focus();
  });
}

$("cake-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  attempt(async () => {
    let items;
    try {
      items = parseLines($("cake-ingredients").value);
    } catch (error) {
      showFormErrors(form, { byField: new Map([["cake-ingredients", error.message]]), message: null }, "cake-form-error");
      return;
    }
    const body = `{"name": ${JSON.stringify($("cake-name").value)}, "ingredients": ${ingredientsJson(items)}}`;
    const cake = await api("POST", "/cakes", body);
    form.reset();
    announce(`Cake ${cake.name} added.`);
    await loadCakes();
    focusCard(document.querySelector(`[data-cake="${CSS.escape(cake.id)}"]`));
  }, (error) => {
    showFormErrors(form, explain(error, CAKE_FIELDS), "cake-form-error");
  });
});

// ---------------------------------------------------------------------------------------------------------
// The new order, with what it needs shown as it is typed

// Totals in milligrams (integers), so that 33.5 × 4 × 2 is exactly 268.
function updatePreview() {
  const body = $("order-preview").querySelector("tbody");
  const warning = $("order-extras-warning");
  const cake = state.cakes.find((c) => c.id === $("order-recipe").value);
  const persons = Number($("order-persons").value);
  const quantity = Number($("order-quantity").value);
  const warnings = [];
  const rows = [];
  if (cake && Number.isInteger(persons) && persons > 0 && Number.isInteger(quantity) && quantity > 0) {
    const totals = new Map();
    for (const [name, amount] of Object.entries(cake.ingredients)) {
      totals.set(name, { unit: cake.units[name], milli: Math.round(amount * 1000) * persons * quantity, flag: null });
    }
    let extras = [];
    try {
      extras = parseLines($("order-extras").value);
    } catch (error) {
      warnings.push(error.message);
    }
    for (const extra of extras) {
      const known = totals.get(extra.name);
      if (!known) totals.set(extra.name, { unit: extra.unit, milli: extra.milli, flag: null });
      else if (known.unit === extra.unit) known.milli += extra.milli;
      else {
        // Flagged, not dropped: the order cannot use this line as written.
        known.flag = `+ ${formatAmount(extra.amount, extra.unit)} not added`;
        warnings.push(unitClash(extra.name, known.unit));
      }
    }
    for (const [name, { unit, milli, flag }] of totals) {
      const needed = el("td", { class: "amount", text: formatAmount(milli / 1000, unit) });
      const cells = [el("td", { text: name }), needed];
      if (flag) needed.append(el("br"), el("span", { text: flag }));
      rows.push(el("tr", { dataset: { ingredient: name }, class: flag ? "flagged" : undefined }, ...cells));
    }
  }
  body.replaceChildren(...rows);
  $("order-preview").hidden = rows.length === 0;
  $("order-preview-empty").hidden = rows.length > 0;
  setText(warning, warnings.join(" "));
  setText($("order-preview-empty"), cake ? "Enter persons and cakes (whole numbers from 1) to see what it needs."
    : "Choose a cake to see what it needs.");
}

for (const id of ["order-recipe", "order-persons", "order-quantity", "order-extras"]) {
  $(id).addEventListener("input", updatePreview);
}

$("order-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  $("order-form-status").textContent = "";
  attempt(async () => {
    let extras;
    try {
      extras = parseLines($("order-extras").value);
    } catch (error) {
      showFormErrors(form, { byField: new Map([["order-extras", error.message]]), message: null }, "order-form-error");
      return;
    }
    const body = `{"customer": ${JSON.stringify($("order-customer").value)}, `
      + `"recipe": ${JSON.stringify($("order-recipe").value)}, `
      + `"persons": ${JSON.stringify(countValue($("order-persons").value))}, `
      + `"quantity": ${JSON.stringify(countValue($("order-quantity").value))}, `
      + `"extra_ingredients": ${ingredientsJson(extras)}}`;
    const order = await api("POST", "/orders", body);
    $("order-customer").value = "";
    $("order-extras").value = "";
    $("order-persons").value = "1";
    $("order-quantity").value = "1";
    updatePreview();
    $("order-form-status").textContent = `Order #${order.id} placed for ${order.customer}.`;
    announce(`Order #${order.id} placed for ${order.customer}.`);
    await loadOrders();
    const card = orderCard(order.id);
    if (card) { card.classList.add("highlight"); focusCard(card); } else $("order-form-status").focus();
    poller.poke();
  }, (error) => {
    const explained = explain(error, ORDER_FIELDS);
    showFormErrors(form, explained, "order-form-error");
    if (error.problem && error.problem.code === "unknown_recipe") loadCakes();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Orders: a page of the API's, found by customer, state and day; kept up to date by polling

function orderCard(id) { return document.querySelector(`#order-list > [data-order="${id}"]`); }

function focusCard(card) {
  if (!card) return;
  const target = card.querySelector("article") || card;
  target.focus({ preventScroll: true });
  target.scrollIntoView({ block: "nearest" });
}

function noticeText(order) {
  if (!order.ready) return order.state === "cancelled" ? "None (cancelled)" : "Not ready yet";
  if (order.ready.state === "pending") return "Telling the customer…";
  const how = order.ready.channel === "slack" ? "on Slack" : "by e-mail";
  return `Sent ${how} to ${order.ready.recipient}, ${when(order.ready.notified_at)}`;
}

const STATE_WORDS = { placed: "Placed", ready: "Ready", cancelled: "Cancelled" };

function renderOrder(order) {
  const who = `order #${order.id} for ${order.customer}`;
  const errorId = `order-${order.id}-error`;
  const actions = [];
  if (order.state === "placed") {
    actions.push(actionButton("Mark ready", `— ${who}`, { class: "primary", dataset: { action: "ready" }, "aria-describedby": errorId, onclick: () => markReady(order) }));
  }
  if (order.state !== "cancelled") {
    actions.push(actionButton("Cancel order", `#${order.id} for ${order.customer}`, { class: "danger-outline", dataset: { action: "cancel" }, "aria-describedby": errorId, onclick: () => cancelOrder(order) }));
  }
  const cakes = `${order.recipe_name}: ${plural(order.quantity, "cake")} for ${plural(order.persons, "person")} each`;
  return el("li", { class: "card order", dataset: { order: order.id, state: order.state } },
    el("article", { "aria-labelledby": `order-${order.id}-title`, tabindex: "-1" },
      el("div", { class: "card-head" },
        el("h3", { id: `order-${order.id}-title` }, `#${order.id} `, order.customer),
        el("span", { class: `badge state-${order.state}`, text: STATE_WORDS[order.state] })),
      el("p", { text: cakes }),
      el("dl", { class: "facts" },
        fact("Placed", when(order.created_at)),
        order.cancelled_at ? fact("Cancelled", when(order.cancelled_at)) : null,
        fact("Jira ticket", order.ticket_key || (order.state === "cancelled" ? "None" : "With the next batch")),
        fact("Customer told", el("span", { class: "notice", text: noticeText(order) }))),
      el("ul", { class: "ingredients", "aria-label": `Ingredients of order #${order.id}` },
        ...order.required_ingredients.map((i) => el("li", { text: `${i.ingredient} ${i.display}` }))),
      el("p", { class: "card-error", id: errorId, role: "alert" }),
      actions.length ? el("div", { class: "actions" }, ...actions) : null));
}

// Cards are replaced only when their order changed, so focus, scroll and an open error stay where they are.
function renderOrders(items) {
  const list = $("order-list");
  const wanted = new Set(items.map((o) => String(o.id)));
  for (const card of [...list.children]) if (!wanted.has(card.dataset.order)) card.remove();
  let previous = null;
  for (const order of items) {
    const before = state.orders.get(order.id);
    let card = orderCard(order.id);
    if (!card || JSON.stringify(before) !== JSON.stringify(order)) {
      const fresh = renderOrder(order);
      if (card) {
        const focusedAction = card.contains(document.activeElement)
          ? (document.activeElement.dataset.action || "article") : null;
        const error = card.querySelector(".card-error").textContent;
        fresh.querySelector(".card-error").textContent = error;
        if (card.classList.contains("highlight")) fresh.classList.add("highlight");
        card.replaceWith(fresh);
        if (focusedAction) {
          const again = fresh.querySelector(`[data-action="${focusedAction}"]`) || fresh.querySelector("article");
          again.focus({ preventScroll: true });
        }
      }
      card = fresh;
    }
    const place = previous ? previous.nextElementSibling : list.firstElementChild;
    if (place !== card) list.insertBefore(card, place);
    previous = card;
  }
  state.orders = new Map(items.map((o) => [o.id, o]));
}

function searchQuery() {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(state.page.offset) });
  const { customer, state: wanted, placed_from: from, placed_to: to } = state.search;
  if (customer.trim()) params.set("customer", customer.trim());
  if (wanted) params.set("state", wanted);
  if (from) params.set("placed_from", from);
  if (to) params.set("placed_to", to);
  if (from || to) {
    // The days begin at local midnight: the offset of the first day asked for.
    const day = new Date(`${from || to}T00:00:00`);
    params.set("utc_offset_minutes", String(-day.getTimezoneOffset()));
  }
  return params.toString();
}

// Loads the page of orders on screen; true when anything on it changed.
async function loadOrders() {
  const request = ++state.ordersRequest;
  const page = await api("GET", `/orders?${searchQuery()}`);
  if (request !== state.ordersRequest) return false;
  if (page.items.length === 0 && page.total > 0 && state.page.offset > 0) {
    // The page emptied (orders left the search meanwhile): show the last page there is.
    state.page.offset = Math.max(0, Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE);
    return loadOrders();
  }
  const before = JSON.stringify([...state.orders.values()]) + state.page.total;
  announceNews(page.items);
  renderOrders(page.items);
  state.page.total = page.total;
  renderPager();
  $("orders-error").textContent = "";
  $("orders-updated").textContent = `Updated ${timeOnly.format(new Date())}`;
  return before !== JSON.stringify(page.items) + page.total;
}

// Changes nobody on this page asked for (another till, the outbox): told politely.
function announceNews(items) {
  const news = [];
  for (const order of items) {
    const before = state.orders.get(order.id);
    if (before && before.ready && before.ready.state === "pending" && order.ready && order.ready.state === "sent") {
      news.push(`Order #${order.id}: ${order.customer} was told it is ready.`);
    } else if (before && before.state !== order.state && order.state === "cancelled") {
      news.push(`Order #${order.id} was cancelled.`);
    }
  }
  if (news.length) announce(news.join(" "));
}

function renderPager() {
  const { total, offset } = state.page;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const current = Math.floor(offset / PAGE_SIZE) + 1;
  const searching = Object.values(state.search).some((v) => v);
  const shown = state.orders.size;
  setText($("orders-summary"), total === 0
    ? (searching ? "No order matches this search." : "No orders yet.")
    : `Showing ${offset + 1}–${offset + shown} of ${plural(total, searching ? "matching order" : "order")}.`);
  $("order-pager").hidden = pages <= 1;
  setText($("page-info"), `Page ${current} of ${pages}`);
  $("page-prev").disabled = current <= 1;
  $("page-next").disabled = current >= pages;
}

function goToPage(delta) {
  state.page.offset = Math.max(0, state.page.offset + delta * PAGE_SIZE);
  attempt(async () => {
    await loadOrders();
    $("orders-title").focus({ preventScroll: true });
    $("orders-title").scrollIntoView({ block: "start" });
    poller.poke();
  }, showOrdersError);
}

$("page-prev").addEventListener("click", () => goToPage(-1));
$("page-next").addEventListener("click", () => goToPage(1));

function showOrdersError(error) {
  const text = friendlyFailure(error);
  if (text) $("orders-error").textContent = text;
}

function readSearch() {
  const form = $("order-search");
  clearErrors(form);
  const search = {
    customer: $("search-customer").value,
    state: $("search-state").value,
    placed_from: $("search-from").value,
    placed_to: $("search-to").value,
  };
  if (search.placed_from && search.placed_to && search.placed_to < search.placed_from) {
    showFormErrors(form, { byField: new Map([["search-to", "This day is before the “Placed from” day."]]), message: null }, "orders-error");
    return null;
  }
  return search;
}

function runSearch() {
  const search = readSearch();
  if (!search) return;
  state.search = search;
  state.page.offset = 0;
  attempt(async () => { await loadOrders(); poller.poke(); }, showOrdersError);
}

let typing = null;
$("order-search").addEventListener("submit", (event) => { event.preventDefault(); window.clearTimeout(typing); runSearch(); });
$("search-customer").addEventListener("input", () => { window.clearTimeout(typing); typing = window.setTimeout(runSearch, 350); });
for (const id of ["search-state", "search-from", "search-to"]) $(id).addEventListener("change", runSearch);
$("search-clear").addEventListener("click", () => {
  $("order-search").reset();
  runSearch();
  $("search-customer").focus();
});

async function markReady(order) {
  orderCard(order.id).querySelector(".card-error").textContent = "";
  await attempt(async () => {
    await api("POST", `/orders/${order.id}/ready`);
    announce(`Order #${order.id} is ready. Telling ${order.customer}.`);
    await Promise.all([loadOrders(), loadIntegrations()]);
    focusCard(orderCard(order.id));
    poller.poke();
  }, (error) => orderActionFailed(order, error));
}

async function cancelOrder(order) {
  const sure = await confirmAction({
    title: `Cancel order #${order.id}?`,
    text: `${order.customer}'s ${order.recipe_name} order is cancelled for good, and noted in their Google Drive document.`,
    yes: "Cancel order",
    keep: "Keep order",
  });
  const card = orderCard(order.id);
  if (!sure) {
    // Back where the person was (the card may have changed while the question was open).
    const back = card && (card.querySelector("[data-action=cancel]") || card.querySelector("article"));
    if (back) back.focus();
    return;
  }
  if (card) card.querySelector(".card-error").textContent = "";
  await attempt(async () => {
    await api("DELETE", `/orders/${order.id}`);
    announce(`Order #${order.id} cancelled.`);
    await Promise.all([loadOrders(), loadIntegrations()]);
    const still = orderCard(order.id);
    if (still) focusCard(still); else $("orders-title").focus();
    poller.poke();
  }, (error) => orderActionFailed(order, error));
}

// The refusal is shown on the order's card, after the page is brought up to date (the order may have changed).
function orderActionFailed(order, error) {
  const message = friendlyFailure(error, { notFound: "This order no longer exists." });
  if (!message) return;
  attempt(loadOrders, () => {}).then(() => {
    const card = orderCard(order.id);
    if (!card) { $("orders-error").textContent = `Order #${order.id}: ${message}`; return; }
    card.querySelector(".card-error").textContent = message;
    focusCard(card);
  });
}

$("batch-run").addEventListener("click", () => {
  $("batch-status").textContent = "";
  $("batch-error").textContent = "";
  attempt(async () => {
    const result = await api("POST", "/batches/run");
    $("batch-status").textContent = result.batch_id
      ? `Sent: ${plural(result.orders.length, "order")} in one Jira ticket (batch ${result.batch_id}).`
      : "No order is waiting for a ticket.";
    await Promise.all([loadOrders(), loadIntegrations()]);
    poller.poke();
  }, (error) => {
    const text = friendlyFailure(error);
    if (text) $("batch-error").textContent = text;
  });
});

// ---------------------------------------------------------------------------------------------------------
// Staff

async function loadEmployees() {
  const employees = (await api("GET", "/employees")).items;
  $("employee-list").replaceChildren(...employees.map((e) => el("li", { class: "card employee", dataset: { employee: e.id } },
    el("div", { tabindex: "-1" },
      el("h3", {}, `${e.firstName} ${e.lastName}`),
      el("dl", { class: "facts" },
        fact("GitHub", e.githubUsername || "—"),
        fact("Developer", e.permissions.developer ? "Yes: has access to the code" : "No"))))));
  $("employees-empty").hidden = employees.length > 0;
}

$("employee-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  attempt(async () => {
    const github = $("employee-github").value.trim();
    const body = JSON.stringify({
      firstName: $("employee-first").value, lastName: $("employee-last").value,
      githubUsername: github || null, permissions: { developer: $("employee-developer").checked },
    });
    const employee = await api("POST", "/employees", body);
    form.reset();
    announce(`${employee.firstName} ${employee.lastName} added to the staff.`);
    await loadEmployees();
    const card = document.querySelector(`[data-employee="${employee.id}"] > div`);
    if (card) { card.focus({ preventScroll: true }); card.scrollIntoView({ block: "nearest" }); }
  }, (error) => {
    showFormErrors(form, explain(error, EMPLOYEE_FIELDS), "employee-form-error");
  });
});

// ---------------------------------------------------------------------------------------------------------
// Integrations

const INTEGRATION_NAMES = { jira: "Jira", slack: "Slack", email: "E-mail", drive: "Google Drive", github: "GitHub" };
const ACTION_WORDS = {
  create_ticket: "Jira ticket", ready_notice: "Ready notice", append_line: "Cancelled-order note",
  grant_access: "GitHub access given", revoke_access: "GitHub access removed",
};
const RESULT_WORDS = { pending: "waiting to be sent", done: "done", failed: "failed" };

function integrationCard(item) {
  const name = INTEGRATION_NAMES[item.name] || item.name;
  const last = item.last_result;
  const lastText = last
    ? `${ACTION_WORDS[last.action] || capitalise(last.action.replace(/_/g, " "))}: ${RESULT_WORDS[last.state] || last.state}, ${when(last.at)}`
    : "Nothing sent yet";
  const trouble = item.failed > 0;
  const errorId = `integration-${item.name}-error`;
  // Retrying helps only an integration that is set up; the others' actions wait for their credentials.
  const retry = item.configured && item.pending + item.failed > 0
    ? el("div", { class: "actions" }, actionButton("Retry now", `— ${name}`, { onclick: () => replay(item, name) }))
    : null;
  return el("li", { class: "card integration", dataset: { integration: item.name } },
    el("div", {},
      el("div", { class: "card-head" },
        el("h3", { text: name }),
        el("span", { class: `badge ${trouble ? "trouble" : item.configured ? "on" : "off"}`, text: trouble ? "Needs attention" : item.configured ? "Set up" : "Not set up" })),
      el("dl", { class: "facts" },
        fact("Waiting", String(item.pending)),
        fact("Failed", String(item.failed)),
        fact("Done", String(item.done)),
        fact("Last result", lastText),
        last && last.error ? fact("Problem", last.error) : null,
        !item.configured && item.pending ? fact("Note", "Waiting until it is set up; nothing is lost.") : null),
      el("p", { class: "card-error", id: errorId, role: "alert" }),
      retry));
}

async function loadIntegrations() {
  const items = (await api("GET", "/integrations")).items;
  const list = $("integration-list");
  const focusedName = list.contains(document.activeElement) ? document.activeElement.closest("[data-integration]").dataset.integration : null;
  list.replaceChildren(...items.map(integrationCard));
  if (focusedName) {
    const card = list.querySelector(`[data-integration="${focusedName}"]`);
    (card.querySelector("button") || card.querySelector("h3")).focus({ preventScroll: true });
  }
}

function replay(item, name) {
  attempt(async () => {
    const result = await api("POST", `/integrations/${item.name}/replay`);
    announce(`${name}: ${plural(result.requeued, "action")} will be tried again now.`);
    await loadIntegrations();
    poller.poke();
  }, (error) => {
    const text = friendlyFailure(error);
    if (text) $(`integration-${item.name}-error`).textContent = text;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Keeping the page up to date by itself

// The wait before the next look, from the last one: back to the start after a change (or a recovery),
// longer each time nothing changed, doubled after a failure; quicker while a notice is on its way.
function nextPollDelay(delay, { changed = false, pending = false, failed = false, recovered = false } = {}) {
  if (failed) return Math.min(Math.max(delay, POLL.idle) * 2, POLL.max);
  const base = pending ? POLL.pending : POLL.idle;
  if (changed || recovered) return base;
  return Math.min(Math.max(delay, base) * POLL.growth, pending ? POLL.pendingMax : POLL.idleMax);
}

const poller = {
  timer: null,
  delay: POLL.idle,
  failing: false,

  pendingNotice() { return [...state.orders.values()].some((o) => o.ready && o.ready.state === "pending"); },

  schedule(delay) {
    window.clearTimeout(this.timer);
    this.timer = null;
    if (!signedIn() || document.hidden) return;
    this.timer = window.setTimeout(() => this.tick(), delay);
  },

  // After an action: look again soon.
  poke() {
    this.delay = this.pendingNotice() ? POLL.pending : POLL.idle;
    this.schedule(this.delay);
  },

  stop() { window.clearTimeout(this.timer); this.timer = null; },

  async tick() {
    try {
      const [changed] = await Promise.all([loadOrders(), loadIntegrations()]);
      this.delay = nextPollDelay(this.delay, { changed, pending: this.pendingNotice(), recovered: this.failing });
      this.failing = false;
    } catch (error) {
      if (error.handled) return; // signed out
      this.failing = true;
      this.delay = nextPollDelay(this.delay, { failed: true });
      $("orders-updated").textContent = `Couldn't update; trying again in ${Math.round(this.delay / 1000)} s`;
    }
    this.schedule(this.delay);
  },
};

document.addEventListener("visibilitychange", () => {
  if (document.hidden) poller.stop();
  else if (signedIn()) { poller.delay = POLL.idle; poller.schedule(0); }
});

async function loadAll() {
  await attempt(async () => {
    await loadCakes();
    await Promise.all([loadOrders(), loadEmployees(), loadIntegrations()]);
  }, (error) => {
    const text = friendlyFailure(error);
    if (text) $("orders-error").textContent = text;
  });
  poller.poke();
}

// Start: signed out people see the sign-in and nothing else.
if (token() && !startSession(token())) localStorage.removeItem(TOKEN_KEY);
showView();
if (signedIn()) loadAll();
