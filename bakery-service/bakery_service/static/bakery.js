// The bakery's web page: every action is a call of bakery-service's API with the suite's token.
"use strict";

const TOKEN_KEY = "bakery.token";
const $ = (id) => document.getElementById(id);
let cakes = [];

function token() { return localStorage.getItem(TOKEN_KEY); }

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("notice").hidden = true;
}

function showNotice(message) {
  $("notice").textContent = message;
  $("notice").hidden = false;
  $("error").hidden = true;
}

// A problem+json answer shown as "title: detail (field: message)".
function describeProblem(status, body) {
  if (!body || typeof body !== "object") return `The server answered ${status}.`;
  let text = `${body.title || "Error"}${body.detail ? ": " + body.detail : ""}`;
  if (Array.isArray(body.errors)) text += "\n" + body.errors.map((e) => `${e.loc}: ${e.msg}`).join("\n");
  return text;
}

// rawBody: a JSON text built by hand where the number types matter (grams are floats, units integers).
async function api(method, path, rawBody) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (rawBody !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: rawBody });
  } catch (err) {
    throw new Error(`bakery-service is unreachable (${err.message}).`);
  }
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401 && path !== "/ui/login") {
    localStorage.removeItem(TOKEN_KEY);
    renderSession();
  }
  if (!response.ok) throw new Error(describeProblem(response.status, body));
  return body;
}

function renderSession() {
  const signedIn = Boolean(token());
  $("login-form").hidden = signedIn;
  $("signed-in").hidden = !signedIn;
}

// "chocolate 33.5 g" → ["chocolate", "33.5", "g"]; "eggs 1" → ["eggs", "1", "unit"].
function parseLines(text, where) {
  const items = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const match = line.match(/^(.+?)\s*:?\s+(\d+(?:[.,]\d+)?)\s*(g|grams?|units?)?$/i);
    if (!match) throw new Error(`${where}: "${line}" is not "<ingredient> <amount> [g]".`);
    const amount = match[2].replace(",", ".");
    const grams = /^g/i.test(match[3] || "") || amount.includes(".");
    items.push([match[1].trim().toLowerCase(), amount, grams ? "g" : "unit"]);
  }
  return items;
}

// JSON numbers written by hand: grams always carry a decimal point, units never do.
function ingredientsJson(items) {
  const parts = items.map(([name, amount, unit]) => {
    const number = unit === "g" ? (amount.includes(".") ? amount : amount + ".0") : String(parseInt(amount, 10));
    return `${JSON.stringify(name)}: ${number}`;
  });
  return `{${parts.join(", ")}}`;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function button(label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

function formatAmount(value, unit) { return unit === "g" ? `${value} g` : `${value}`; }

async function loadCakes() {
  cakes = (await api("GET", "/cakes")).items;
  const rows = $("cake-rows");
  rows.replaceChildren();
  for (const cake of cakes) {
    const tr = document.createElement("tr");
    tr.dataset.cake = cake.id;
    const recipe = Object.entries(cake.ingredients).map(([n, a]) => `${n} ${formatAmount(a, cake.units[n])}`).join(", ");
    tr.append(cell(cake.id), cell(cake.name), cell(recipe));
    const actions = document.createElement("td");
    actions.append(button("Delete", () => run(async () => {
      await api("DELETE", `/cakes/${encodeURIComponent(cake.id)}`);
      showNotice(`Cake ${cake.id} deleted.`);
      await loadCakes();
    })));
    tr.append(actions);
    rows.append(tr);
  }
  const select = $("order-recipe");
  const chosen = select.value;
  select.replaceChildren(...cakes.map((c) => new Option(c.name, c.id)));
  if (cakes.some((c) => c.id === chosen)) select.value = chosen;
  updatePreview();
}

// Totals as you type, in milligrams (integers) so that 33.5 × 4 × 2 is exactly 268.
function updatePreview() {
  const body = $("order-preview").querySelector("tbody");
  body.replaceChildren();
  const cake = cakes.find((c) => c.id === $("order-recipe").value);
  const persons = parseInt($("order-persons").value, 10);
  const quantity = parseInt($("order-quantity").value, 10);
  if (!cake || !(persons > 0) || !(quantity > 0)) return;
  const totals = new Map();
  for (const [name, amount] of Object.entries(cake.ingredients)) {
    const unit = cake.units[name];
    const milli = Math.round(amount * 1000) * persons * quantity;
    totals.set(name, { unit, milli });
  }
  let extras = [];
  try { extras = parseLines($("order-extras").value, "Extra ingredients"); } catch (err) { extras = []; }
  for (const [name, amount, unit] of extras) {
    const milli = Math.round(parseFloat(amount) * 1000);
    const known = totals.get(name);
    if (known && known.unit === unit) known.milli += milli;
    else if (!known) totals.set(name, { unit, milli });
  }
  for (const [name, { unit, milli }] of totals) {
    const tr = document.createElement("tr");
    tr.dataset.ingredient = name;
    tr.append(cell(name), cell(formatAmount(milli / 1000, unit)));
    body.append(tr);
  }
}

function readyText(order) {
  if (!order.ready) return "";
  if (order.ready.state === "pending") return "sending…";
  return `${order.ready.channel} → ${order.ready.recipient} (${new Date(order.ready.notified_at).toLocaleString()})`;
}

async function loadOrders() {
  const orders = (await api("GET", "/orders")).items;
  const rows = $("order-rows");
  rows.replaceChildren();
  for (const order of orders) {
    const tr = document.createElement("tr");
    tr.dataset.order = order.id;
    const needed = order.required_ingredients.map((i) => `${i.ingredient} ${i.display}`).join(", ");
    tr.append(cell(order.id), cell(order.customer), cell(order.recipe_name), cell(order.state, `state-${order.state}`),
      cell(needed), cell(order.ticket_key || ""), cell(readyText(order)));
    const actions = document.createElement("td");
    if (order.state === "placed") {
      actions.append(button("Ready", () => run(async () => {
        await api("POST", `/orders/${order.id}/ready`);
        showNotice(`Order #${order.id} is ready; the customer is being told.`);
        await Promise.all([loadOrders(), loadIntegrations()]);
      })));
    }
    if (order.state !== "cancelled") {
      actions.append(button("Cancel", () => run(async () => {
        await api("DELETE", `/orders/${order.id}`);
        showNotice(`Order #${order.id} cancelled.`);
        await Promise.all([loadOrders(), loadIntegrations()]);
      })));
    }
    tr.append(actions);
    rows.append(tr);
  }
}

async function loadEmployees() {
  const employees = (await api("GET", "/employees")).items;
  $("employee-rows").replaceChildren(...employees.map((e) => {
    const tr = document.createElement("tr");
    tr.append(cell(e.id), cell(`${e.firstName} ${e.lastName}`), cell(e.githubUsername || ""),
      cell(e.permissions.developer ? "yes" : "no"));
    return tr;
  }));
}

async function loadIntegrations() {
  const items = (await api("GET", "/integrations")).items;
  $("integration-rows").replaceChildren(...items.map((i) => {
    const tr = document.createElement("tr");
    const last = i.last_result ? `${i.last_result.action}: ${i.last_result.state}${i.last_result.error ? " (" + i.last_result.error + ")" : ""}` : "";
    tr.append(cell(i.name), cell(i.configured ? "yes" : "no"), cell(i.pending), cell(i.failed), cell(last));
    return tr;
  }));
}

async function loadAll() {
  if (!token()) return;
  await loadCakes();
  await Promise.all([loadOrders(), loadEmployees(), loadIntegrations()]);
}

// Runs an action, showing its error instead of failing silently.
async function run(action) {
  try { await action(); } catch (err) { showError(err.message); }
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const body = JSON.stringify({ email: $("login-email").value, password: $("login-password").value });
    const answer = await api("POST", "/ui/login", body);
    localStorage.setItem(TOKEN_KEY, answer.access_token);
    renderSession();
    showNotice("Signed in.");
    await loadAll();
  });
});

$("token-use").addEventListener("click", () => run(async () => {
  localStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
  renderSession();
  await loadAll();
  showNotice("Signed in.");
}));

$("refresh").addEventListener("click", () => run(loadAll));

$("logout").addEventListener("click", () => {
  localStorage.removeItem(TOKEN_KEY);
  renderSession();
});

$("cake-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const items = parseLines($("cake-ingredients").value, "Ingredients");
    const cake = await api("POST", "/cakes", `{"name": ${JSON.stringify($("cake-name").value)}, "ingredients": ${ingredientsJson(items)}}`);
    showNotice(`Cake ${cake.id} created.`);
    $("cake-form").reset();
    await loadCakes();
  });
});

$("order-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const extras = parseLines($("order-extras").value, "Extra ingredients");
    const body = `{"customer": ${JSON.stringify($("order-customer").value)}, "recipe": ${JSON.stringify($("order-recipe").value)}, `
      + `"persons": ${parseInt($("order-persons").value, 10)}, "quantity": ${parseInt($("order-quantity").value, 10)}, `
      + `"extra_ingredients": ${ingredientsJson(extras)}}`;
    const order = await api("POST", "/orders", body);
    showNotice(`Order #${order.id} placed.`);
    await loadOrders();
  });
});

$("batch-run").addEventListener("click", () => run(async () => {
  const result = await api("POST", "/batches/run");
  showNotice(result.batch_id ? `Batch ${result.batch_id}: ${result.orders.length} order(s) sent to Jira.` : "No order is waiting for a ticket.");
  await Promise.all([loadOrders(), loadIntegrations()]);
}));

$("employee-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const github = $("employee-github").value.trim();
    const body = JSON.stringify({
      firstName: $("employee-first").value, lastName: $("employee-last").value,
      githubUsername: github || null, permissions: { developer: $("employee-developer").checked },
    });
    const employee = await api("POST", "/employees", body);
    showNotice(`Employee #${employee.id} added.`);
    $("employee-form").reset();
    await loadEmployees();
  });
});

for (const id of ["order-recipe", "order-persons", "order-quantity", "order-extras"]) {
  $(id).addEventListener("input", updatePreview);
}

renderSession();
run(loadAll);
