// Sortable tables: click a column heading to sort by it; click again to reverse. Cells may carry data-sort
// (a number or ISO date) so that "1,234" and "12.5%" sort by value, not as text.
(function () {
  function key(cell) {
    var raw = cell.getAttribute("data-sort");
    var text = raw !== null ? raw : cell.textContent.trim();
    var number = parseFloat(text.replace(/,/g, ""));
    return raw !== null && !isNaN(number) && /^-?[\d.,]+(e-?\d+)?$/.test(raw) ? number : text.toLowerCase();
  }
  function sortBy(table, index, heading) {
    var body = table.tBodies[0];
    var ascending = heading.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      if (x === y) return 0;
      if (x === "") return 1;
      if (y === "") return -1;
      return (x < y ? -1 : 1) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, index) {
      heading.title = "Sort by " + heading.textContent.trim();
      heading.addEventListener("click", function () { sortBy(table, index, heading); });
    });
  });
})();

// Plotly sizes each chart as its inline script runs, while the page is still being parsed and the grid around it
// is not laid out yet; size them again now that the whole page is there.
if (window.Plotly) {
  document.querySelectorAll(".plotly-graph-div").forEach(function (div) { Plotly.Plots.resize(div); });
}
