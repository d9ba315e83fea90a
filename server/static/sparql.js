/* The SPARQL workbench: a YASQE editor over the page's plain form, results as a table whose IRIs
   link to their pages under their labels, downloads, a permalink and the row-limit notice.
   No request leaves the site: prefixes come from /sparql/prefixes, the LOV autocompleters are off. */
(function () {
  "use strict";

  const layout = document.querySelector(".sparql-layout");
  const form = document.getElementById("sparql-form");
  const textarea = document.getElementById("sparql-query");
  if (!layout || !form || !textarea) return;

  const lv = layout.dataset.lang === "lv";
  const rowLimit = layout.dataset.rowLimit;
  const statusEl = document.getElementById("sparql-status");
  const truncatedEl = document.getElementById("sparql-truncated");
  const resultsEl = document.getElementById("sparql-results");
  const linksEl = document.getElementById("sparql-links");
  const runButton = document.getElementById("sparql-run");
  const ACCEPT = "application/sparql-results+json, text/turtle;q=0.9";
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const NUMERIC = /XMLSchema#(integer|decimal|double|float|int|long|short|nonNegativeInteger|positiveInteger)$/;
  const LABEL_BATCH = 1000;

  const text = {
    running: lv ? "Izpilda…" : "Running…",
    rows: (n, ms) => lv ? `${n} rindas, ${ms} ms` : `${n} row${n === 1 ? "" : "s"} in ${ms} ms`,
    triples: (n, ms) => lv ? `${n} trijnieki, ${ms} ms` : `${n} triple${n === 1 ? "" : "s"} in ${ms} ms`,
    truncated: (n) => lv
      ? `Rezultāts nogriezts: parādītas tikai pirmās ${n} rindas (rindu ierobežojums). Sašauriniet vaicājumu vai izmantojiet LIMIT/OFFSET.`
      : `The result was cut at the row limit: only the first ${n} rows are shown. Narrow the query or page through it with LIMIT/OFFSET.`,
    failed: lv ? "Vaicājums neizdevās" : "The query failed",
    network: lv ? "Serveris nav sasniedzams" : "The server could not be reached",
    empty: lv ? "Nav rezultātu." : "No results.",
  };

  // --- the editor ---------------------------------------------------------------------------
  let editor = null;
  const Yasqe = window.Yasgui && window.Yasgui.Yasqe;
  if (Yasqe) {
    // Only the local completers: "class" and "property" would ask lov.linkeddata.es.
    Yasqe.defaults.autocompleters = ["variables", "prefixes"];
    const holder = document.createElement("div");
    holder.className = "sparql-yasqe";
    textarea.insertAdjacentElement("afterend", holder);
    textarea.hidden = true;
    editor = new Yasqe(holder, {
      value: textarea.value,
      persistenceId: null,            // a permalink or a saved query must win over localStorage
      prefixCcApi: "/sparql/prefixes", // never prefix.cc
      showQueryButton: false,
      createShareableLink: null,
      consumeShareLink: null,
      collapsePrefixesOnLoad: true,
      editorHeight: "22rem",
      extraKeys: {
        "Ctrl-Enter": () => run(),
        "Cmd-Enter": () => run(),
      },
    });
  } else {
    textarea.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); }
    });
  }
  form.classList.add("js");

  const getQuery = () => (editor ? editor.getValue() : textarea.value);
  const setQuery = (q) => {
    if (editor) { editor.setValue(q); editor.refresh(); } else { textarea.value = q; }
  };

  // --- prefixes, for showing IRIs compactly ---------------------------------------------------
  let prefixes = [];
  const prefixesReady = fetch("/sparql/prefixes")
    .then((r) => (r.ok ? r.json() : {}))
    .then((map) => {
      prefixes = Object.entries(map).sort((a, b) => b[1].length - a[1].length);
    })
    .catch(() => {});

  function compact(iri) {
    for (const [p, ns] of prefixes) {
      if (iri.startsWith(ns) && iri.length > ns.length) return `${p}:${iri.slice(ns.length)}`;
    }
    return iri;
  }

  // --- running -------------------------------------------------------------------------------
  let current = null;

  async function run() {
    const query = getQuery();
    if (current) current.abort();
    const controller = new AbortController();
    current = controller;
    setStatus(text.running, "busy");
    truncatedEl.hidden = true;
    resultsEl.replaceChildren();
    runButton.disabled = true;
    const started = performance.now();
    let response;
    let body;
    try {
      response = await fetch("/sparql", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: ACCEPT },
        body: new URLSearchParams({ query }),
        signal: controller.signal,
      });
      body = await response.text();
    } catch (err) {
      if (err.name !== "AbortError") showError(text.network, String(err));
      return;
    } finally {
      runButton.disabled = false;
      if (current === controller) current = null;
    }
    const ms = Math.round(performance.now() - started);
    updateLinks(query);
    if (!response.ok) {
      showError(`${text.failed} (${response.status} ${response.statusText})`, body);
      return;
    }
    const rows = Number(response.headers.get("X-Romagraph-Rows") || 0);
    const limit = response.headers.get("X-Romagraph-Row-Limit") || rowLimit;
    const ctype = response.headers.get("Content-Type") || "";
    if (ctype.startsWith("application/sparql-results+json")) {
      const data = JSON.parse(body);
      if (typeof data.boolean === "boolean") {
        renderBoolean(data.boolean);
        setStatus(`ASK: ${data.boolean} (${ms} ms)`, "done");
      } else {
        await renderTable(data);
        setStatus(text.rows(rows, ms), "done");
      }
      setKind("solutions");
    } else {
      renderGraph(body);
      setStatus(text.triples(rows, ms), "done");
      setKind("graph");
    }
    if (response.headers.get("X-Romagraph-Truncated") === "true") {
      truncatedEl.textContent = text.truncated(limit);
      truncatedEl.hidden = false;
    }
  }

  function setStatus(message, state) {
    statusEl.textContent = message;
    statusEl.dataset.state = state;
  }

  function showError(title, detail) {
    setStatus(title, "error");
    const pre = document.createElement("pre");
    pre.className = "sparql-error";
    pre.textContent = detail;
    resultsEl.replaceChildren(pre);
  }

  function updateLinks(query) {
    const q = encodeURIComponent(query);
    for (const a of linksEl.querySelectorAll("a[data-format]")) {
      a.href = `/sparql?query=${q}&format=${a.dataset.format}`;
    }
    const permalink = document.getElementById("permalink");
    permalink.href = `/sparql?query=${q}`;
    linksEl.hidden = false;
    history.replaceState(null, "", `/sparql?query=${q}`);
  }

  function setKind(kind) {
    for (const a of linksEl.querySelectorAll("a[data-kind]")) a.hidden = a.dataset.kind !== kind;
  }

  // --- rendering -----------------------------------------------------------------------------
  function renderBoolean(value) {
    const p = document.createElement("p");
    p.className = "sparql-boolean";
    p.textContent = String(value);
    resultsEl.replaceChildren(p);
  }

  function renderGraph(turtle) {
    const pre = document.createElement("pre");
    pre.className = "sparql-graph";
    pre.textContent = turtle;
    resultsEl.replaceChildren(pre);
  }

  async function renderTable(data) {
    await prefixesReady;
    const vars = data.head.vars || [];
    const bindings = data.results.bindings || [];
    if (!bindings.length) {
      const p = document.createElement("p");
      p.textContent = text.empty;
      resultsEl.replaceChildren(p);
      return;
    }
    const table = document.createElement("table");
    table.className = "sparql-table";
    const thead = table.createTHead().insertRow();
    const corner = document.createElement("th");
    corner.textContent = "#";
    thead.append(corner);
    for (const v of vars) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = v;
      thead.append(th);
    }
    const tbody = table.createTBody();
    const links = new Map();
    bindings.forEach((binding, i) => {
      const tr = tbody.insertRow();
      const n = document.createElement("th");
      n.scope = "row";
      n.textContent = String(i + 1);
      tr.append(n);
      for (const v of vars) tr.append(cell(binding[v], links));
    });
    const wrap = document.createElement("div");
    wrap.className = "sparql-table-wrap";
    wrap.append(table);
    resultsEl.replaceChildren(wrap);
    labelLinks(links);
  }

  function cell(term, links) {
    const td = document.createElement("td");
    if (!term) return td;
    td.append(termNode(term, links));
    if (term.type === "literal" && term.datatype && NUMERIC.test(term.datatype)) {
      td.className = "num";
    }
    return td;
  }

  function termNode(term, links) {
    if (term.type === "uri") {
      const a = document.createElement("a");
      a.href = `/resource?iri=${encodeURIComponent(term.value)}`;
      a.className = "iri";
      a.title = term.value;
      a.textContent = compact(term.value);
      if (!links.has(term.value)) links.set(term.value, []);
      links.get(term.value).push(a);
      return a;
    }
    if (term.type === "bnode") {
      const span = document.createElement("span");
      span.className = "bnode";
      span.textContent = `_:${term.value}`;
      return span;
    }
    if (term.type === "triple") {
      const span = document.createElement("span");
      const v = term.value;
      span.append("<< ", termNode(v.subject, links), " ", termNode(v.predicate, links), " ",
        termNode(v.object, links), " >>");
      return span;
    }
    const span = document.createElement("span");
    span.className = "literal";
    span.textContent = term.value;
    if (term.datatype) span.title = compact(term.datatype);
    if (term["xml:lang"]) {
      const tag = document.createElement("span");
      tag.className = "lang";
      tag.textContent = `@${term["xml:lang"]}`;
      span.append(tag);
    } else if (term.datatype && term.datatype !== `${XSD}string` && !NUMERIC.test(term.datatype)) {
      const dt = document.createElement("span");
      dt.className = "datatype";
      dt.textContent = `^^${compact(term.datatype)}`;
      span.append(dt);
    }
    return span;
  }

  async function labelLinks(links) {
    const iris = [...links.keys()].slice(0, LABEL_BATCH);
    if (!iris.length) return;
    let labels = {};
    try {
      const r = await fetch("/sparql/labels", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ iris }),
      });
      if (!r.ok) return;
      labels = (await r.json()).labels || {};
    } catch (err) {
      return;
    }
    for (const [iri, label] of Object.entries(labels)) {
      for (const a of links.get(iri) || []) {
        const short = a.textContent;
        a.textContent = label;
        a.classList.add("labelled");
        const small = document.createElement("small");
        small.className = "iri-short";
        small.textContent = short;
        a.insertAdjacentElement("afterend", small);
      }
    }
  }

  // --- wiring ---------------------------------------------------------------------------------
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run();
  });
  for (const button of document.querySelectorAll("button.run-saved")) {
    button.addEventListener("click", () => {
      const source = document.getElementById(button.dataset.queryId);
      if (!source) return;
      setQuery(source.value);
      form.scrollIntoView({ block: "start", behavior: "smooth" });
      run();
    });
  }
  if (layout.dataset.autorun === "true") run();
})();
