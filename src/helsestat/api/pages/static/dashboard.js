// Draw every chart of the page: an element with data-chart="<id>" gets the plotly figure
// stored as JSON in the <script type="application/json" id="<id>"> beside it.
// plotly.js comes from /static/plotly.min.js (the plotly wheel), never from a CDN.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.dataset.chart);
    if (!source || typeof Plotly === "undefined") { return; }
    var figure = JSON.parse(source.textContent);
    // a figure may add to the plot's config (e.g. a map saved as SVG by its download button)
    var config = Object.assign({ responsive: true, displaylogo: false }, figure.config || {});
    Plotly.newPlot(el, figure.data, figure.layout, config);
  });
});
