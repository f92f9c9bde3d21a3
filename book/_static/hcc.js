/* The book's reader features that need a script (hcc.css and figures.css hold the rest). Without JavaScript the
   figures and tables still scroll sideways inside their own boxes; with it, a reader is told so and can act on it.

   - Figures wider than the screen (a wide single figure such as the forest plot; composite figures show their
     panels one under the other below 600 px instead, figures.css): the image scrolls inside its own box, with a
     visible hint naming how much of it is shown and a button fitting it to the screen.
   - Table cells the article also reports: the article's value and the verdict on hover and keyboard focus.
   - Tables wider than the screen (Table 1, the scorecard): a hint that the table scrolls sideways; on a phone the
     table's box also scrolls vertically (at most 80% of the screen's height), so its header rows and first column
     stay in view (sticky) while a reader moves through it.
   tests/test_browser.py checks both at 390 px, and that they disappear where everything fits (1400 px). */
(function () {
  "use strict";

  function hint(kind, text) {
    const box = document.createElement("p");
    box.className = "hcc-scroll-hint hcc-scroll-hint--" + kind;
    box.setAttribute("role", "note");
    box.textContent = text;
    return box;
  }

  /* Figures: wrap the image in a box of its own that scrolls, put the hint and the "fit" button above it. */
  function setUpFigure(image) {
    const figure = image.closest("figure") || image.parentElement;
    if (!figure || figure.querySelector(".hcc-figure-scroll")) return;
    const scroller = document.createElement("div");
    scroller.className = "hcc-figure-scroll";
    scroller.tabIndex = 0;  // keyboard users scroll it with the arrow keys
    scroller.setAttribute("aria-label", "Figure; scrolls sideways when wider than the screen");
    image.parentNode.insertBefore(scroller, image);
    scroller.appendChild(image);
    const note = hint("figure", "");
    const fit = document.createElement("button");
    fit.type = "button";
    fit.className = "hcc-fit-button";
    fit.addEventListener("click", () => {
      figure.classList.toggle("hcc-figure-fitted");
      update();
    });
    const bar = document.createElement("div");
    bar.className = "hcc-figure-bar";
    bar.append(note, fit);
    scroller.parentNode.insertBefore(bar, scroller);

    function update() {
      const fitted = figure.classList.contains("hcc-figure-fitted");
      const wide = scroller.scrollWidth > scroller.clientWidth + 1;
      bar.hidden = !(wide || fitted);
      if (fitted) {
        note.textContent = "Whole figure fitted to the screen.";
        fit.textContent = "Show at reading size";
      } else if (wide) {
        const shown = Math.round(100 * scroller.clientWidth / scroller.scrollWidth);
        const panels = /\bpanel [A-H]\b/i.test(image.alt) ? "; its panels stand side by side" : "";
        note.textContent = `Swipe sideways: the figure is wider than the screen (${shown}% shown${panels}).`;
        fit.textContent = "Fit to screen";
      }
    }
    update();
    image.addEventListener("load", update);
    window.addEventListener("resize", update);
  }

  /* Tables: a hint above a table wider than its box; sticky header rows stacked at their own offsets. */
  function setUpTable(wrap) {
    const table = wrap.querySelector("table");
    if (!table || wrap.previousElementSibling?.classList.contains("hcc-scroll-hint")) return;
    const note = hint("table", "Swipe sideways to see every column; the first column and the header stay in view.");
    wrap.parentNode.insertBefore(note, wrap);

    function update() {
      note.hidden = !(wrap.scrollWidth > wrap.clientWidth + 1);
      // each header row sticks below the rows above it (a spanner row, then the group names)
      let offset = 0;
      for (const row of table.tHead ? table.tHead.rows : []) {
        for (const cell of row.cells) cell.style.setProperty("--hcc-sticky-top", offset + "px");
        offset += row.getBoundingClientRect().height;
      }
    }
    update();
    window.addEventListener("resize", update);
  }

  /* Table cells the article also reports (hcc_utils.pipeline.comparison): the article's value and the verdict in a
     tip over the page on hover and keyboard focus. The tip is one element fixed to the window, so the table's
     scrolling box does not cut it; Escape hides it. */
  function setUpCellTips() {
    const cells = document.querySelectorAll("td.hcc-compared-cell[data-article]");
    if (!cells.length) return;
    const tip = document.createElement("div");
    tip.id = "hcc-cell-tip";
    tip.className = "hcc-cell-tip";
    tip.setAttribute("aria-hidden", "true");  // screen readers read the cell's own note (aria-describedby)
    tip.hidden = true;
    document.body.appendChild(tip);
    const show = cell => {
      tip.textContent = cell.dataset.article;
      tip.hidden = false;
      const r = cell.getBoundingClientRect(), width = Math.min(352, window.innerWidth - 16);
      tip.style.maxWidth = width + "px";
      tip.style.left = Math.max(8, Math.min(r.left, window.innerWidth - width - 8)) + "px";
      const below = r.bottom + 4, height = tip.getBoundingClientRect().height;
      tip.style.top = (below + height > window.innerHeight ? Math.max(4, r.top - height - 4) : below) + "px";
    };
    const hide = () => { tip.hidden = true; };
    cells.forEach(cell => {
      cell.addEventListener("mouseenter", () => show(cell));
      cell.addEventListener("mouseleave", () => { if (document.activeElement !== cell) hide(); });
      cell.addEventListener("focus", () => show(cell));
      cell.addEventListener("blur", hide);
      cell.addEventListener("keydown", event => { if (event.key === "Escape") hide(); });
    });
    window.addEventListener("scroll", hide, {passive: true});
  }

  function setUp() {
    setUpCellTips();
    document.querySelectorAll("img.hcc-figure").forEach(setUpFigure);
    document.querySelectorAll(".hcc-table-wrap, .pst-scrollable-table-container").forEach(setUpTable);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
