// Record page: re-hash the stored original on request (fixity).
(function () {
  "use strict";
  const button = document.querySelector("[data-fixity]");
  if (!button) return;
  button.addEventListener("click", async () => {
    const out = document.getElementById("fixity");
    button.disabled = true;
    button.textContent = "正在校验…";
    try {
      const res = await fetch(`/api/v1/records/${button.dataset.fixity}/fixity`, { credentials: "same-origin" });
      const body = await res.json();
      out.textContent = res.ok
        ? (body.ok ? `✓ 与入库时一致（${body.checked_at}）` : `✗ 不一致：存储中的文件已被改动或丢失（${body.detail}）`)
        : `无法校验：${body.detail || res.status}`;
      out.className = res.ok && body.ok ? "ok" : "error";
    } catch (e) {
      out.textContent = "无法校验：网络中断";
      out.className = "error";
    }
  });
})();
