// The relationship graph of a resource page, drawn with cytoscape from /api/graph.
// Progressive enhancement: the same relations are listed in the page.
(function () {
  "use strict";
  var COLOURS = {
    org: "#2b6cb0", person: "#805ad5", project: "#2f855a", event: "#dd6b20",
    plan: "#8b5e34", document: "#4a5568", place: "#0987a0", programme: "#b7791f",
    dataset: "#b83280", concept: "#718096", qualified: "#a0aec0", other: "#a0aec0"
  };

  function draw(el, data) {
    var nodes = data.nodes || [];
    el.setAttribute("data-nodes", String(nodes.length));
    el.setAttribute("data-edges", String((data.edges || []).length));
    if (nodes.length < 2 || typeof window.cytoscape !== "function") {
      var p = document.createElement("p");
      p.className = "muted";
      p.textContent = el.getAttribute("data-empty") || "";
      el.appendChild(p);
      el.classList.add("graph-empty");
      return;
    }
    var elements = nodes.map(function (n) {
      return { data: { id: n.id, label: n.label, category: n.category, url: n.url, root: n.root ? 1 : 0 } };
    }).concat((data.edges || []).map(function (e) {
      return { data: { id: e.id, source: e.source, target: e.target, label: e.label } };
    }));
    var cy = window.cytoscape({
      container: el,
      elements: elements,
      style: [
        { selector: "node", style: {
          "background-color": function (n) { return COLOURS[n.data("category")] || COLOURS.other; },
          "label": "data(label)", "font-size": 10, "color": "#1a202c",
          "text-wrap": "ellipsis", "text-max-width": 140, "text-valign": "bottom", "text-margin-y": 3,
          "text-background-color": "#fcfcfd", "text-background-opacity": 0.7,
          "width": 20, "height": 20 } },
        { selector: "node[root = 1]", style: {
          "width": 30, "height": 30, "border-width": 3, "border-color": "#7a1f2b", "font-weight": "bold" } },
        { selector: "edge", style: {
          "width": 1.2, "line-color": "#cbd5e0", "target-arrow-color": "#cbd5e0",
          "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.7,
          "label": "", "font-size": 8, "color": "#4a5568", "text-rotation": "autorotate",
          "text-background-color": "#fff", "text-background-opacity": 0.9 } },
        { selector: "edge.shown", style: { "label": "data(label)", "line-color": "#718096", "target-arrow-color": "#718096", "width": 2 } },
        { selector: "node:selected", style: { "border-width": 3, "border-color": "#1a202c" } }
      ],
      layout: { name: "cose", animate: false, nodeRepulsion: 60000, idealEdgeLength: 110,
                edgeElasticity: 60, gravity: 0.6, numIter: 1500, padding: 24, randomize: false }
    });
    // edge labels (the relation) show for the edges of the hovered or focused node, and the root's
    function showEdges(node, on) { node.connectedEdges().toggleClass("shown", on); }
    var root = cy.nodes("[root = 1]");
    showEdges(root, true);
    cy.on("mouseover", "node", function (evt) { showEdges(evt.target, true); });
    cy.on("mouseout", "node", function (evt) { if (evt.target.data("root") !== 1) { showEdges(evt.target, false); showEdges(root, true); } });
    cy.on("tap", "node", function (evt) {
      var url = evt.target.data("url");
      if (url && evt.target.data("root") !== 1) { window.location.href = url; }
    });
    el.classList.add("graph-ready");
    window.romagraphGraph = cy;
  }

  function init() {
    var el = document.getElementById("relationship-graph");
    if (!el) { return; }
    fetch(el.getAttribute("data-src"), { headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : { nodes: [], edges: [] }; })
      .then(function (data) { draw(el, data); })
      .catch(function () { draw(el, { nodes: [], edges: [] }); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
