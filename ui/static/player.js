// The transcript follows the recording: the line being heard is highlighted and kept in view;
// clicking a line (or Enter on it) plays from there; ?t=SECONDS opens the player at that second
// (search hits link there). Without JavaScript the player and the transcript still work.
(function () {
  "use strict";
  const player = document.getElementById("player");
  if (!player) return;
  const lines = Array.from(document.querySelectorAll("ol.segments li[data-start]"));
  const start = (li) => parseFloat(li.dataset.start);
  let current = null;

  function seek(seconds) {
    player.currentTime = seconds;
  }

  function follow() {
    const t = player.currentTime + 0.05;
    let found = null;
    for (const li of lines) {
      if (start(li) <= t) found = li;
      else break;
    }
    if (found === current) return;
    if (current) {
      current.classList.remove("current");
      current.removeAttribute("aria-current");
    }
    if (found) {
      found.classList.add("current");
      found.setAttribute("aria-current", "true");
      found.scrollIntoView({ block: "nearest" });
    }
    current = found;
  }

  for (const li of lines) {
    li.addEventListener("click", () => {
      seek(start(li));
      player.play().catch(() => {});
    });
    li.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        li.click();
      }
    });
  }
  player.addEventListener("timeupdate", follow);
  player.addEventListener("seeked", follow);

  const t = parseFloat(new URLSearchParams(window.location.search).get("t"));
  if (!Number.isNaN(t)) {
    const go = () => seek(t);
    if (player.readyState >= 1) go();
    else player.addEventListener("loadedmetadata", go, { once: true });
  }
})();
