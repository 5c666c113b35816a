// datasette-provenance: progressive enhancement for the compare page.
// Each text column that scrolls on its own starts at its first shared passage.
document.addEventListener("DOMContentLoaded", () => {
  for (const column of document.querySelectorAll(".pv-text")) {
    const first = column.querySelector(".pv-passage");
    if (first && column.scrollHeight > column.clientHeight) {
      column.scrollTop = first.offsetTop - column.offsetTop - 24;
    }
  }
});

// Without JavaScript, a passage is a link to its twin's anchor; with it, the twin
// scrolls into view inside its own column (the clicked text stays where it is)
// and flashes so the eye finds it.
document.addEventListener("click", (event) => {
  const passage = event.target.closest("a.pv-passage[href^='#']");
  if (!passage) {
    return;
  }
  const twin = document.getElementById(decodeURIComponent(passage.getAttribute("href").slice(1)));
  if (!twin) {
    return;
  }
  event.preventDefault();
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  twin.scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth", block: "center", inline: "nearest" });
  twin.classList.remove("pv-flash");
  void twin.offsetWidth; // restart the animation when the same twin is chosen twice
  twin.classList.add("pv-flash");
  twin.focus({ preventScroll: true });
  history.replaceState(null, "", "#" + twin.id);
});
