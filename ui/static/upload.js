// Case page: drag-and-drop upload with per-file progress, then live processing status.
(function () {
  "use strict";
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const LABELS = { pending: "等待处理", processing: "处理中", processed: "已完成", failed: "处理失败" };
  const AV_FIELDS = ["made_how", "made_at", "made_by", "proves"];

  function poll(recordId, onUpdate) {
    const tick = async () => {
      let state;
      try {
        const res = await fetch(`/api/v1/records/${recordId}/status`, { credentials: "same-origin" });
        if (!res.ok) return;
        state = await res.json();
      } catch (e) {
        setTimeout(tick, 3000);
        return;
      }
      onUpdate(state);
      if (state.status === "pending" || state.status === "processing") setTimeout(tick, 1000);
    };
    tick();
  }

  // Records already on the page that are still being processed update themselves.
  document.querySelectorAll(".job[data-record]").forEach((el) => {
    if (el.dataset.status !== "pending" && el.dataset.status !== "processing") return;
    poll(el.dataset.record, (s) => {
      el.dataset.status = s.status;
      el.className = `job job-${s.status}`;
      el.textContent = s.label + (s.status === "processing" && s.progress ? ` ${Math.round(s.progress * 100)}%` : "");
      if (s.error && !el.parentNode.querySelector(".error")) {
        el.parentNode.append(" ", Object.assign(document.createElement("span"), { className: "error", textContent: s.error }));
      }
    });
  });

  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("files");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("uploads");
  const warning = document.getElementById("av-warning");
  let chosen = [];

  function isAV(file) {
    return /^(audio|video|image)\//.test(file.type) || /\.(mp3|wav|m4a|amr|ogg|opus|mp4|mov|avi|mkv|jpg|jpeg|png|heic)$/i.test(file.name);
  }
  function checkAV() {
    const missing = AV_FIELDS.some((n) => !String(form.elements[n].value || "").trim());
    warning.hidden = !(missing && chosen.some(isAV));
  }
  function choose(files) {
    chosen = Array.from(files);
    zone.querySelector("#drop-help").textContent = chosen.length
      ? `已选择 ${chosen.length} 个文件：${chosen.map((f) => f.name).join("、")}`
      : "未选择文件";
    checkAV();
  }
  input.addEventListener("change", () => choose(input.files));
  AV_FIELDS.forEach((n) => form.elements[n].addEventListener("input", checkAV));
  zone.addEventListener("click", (e) => { if (e.target === zone) input.click(); });
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
  });
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
  zone.addEventListener("drop", (e) => choose(e.dataTransfer.files));

  function row(file) {
    const li = document.createElement("li");
    const name = Object.assign(document.createElement("span"), { className: "name", textContent: file.name });
    const bar = Object.assign(document.createElement("progress"), { max: 100, value: 0 });
    bar.setAttribute("aria-label", `${file.name} 上传进度`);
    const state = Object.assign(document.createElement("span"), { className: "state", textContent: "等待上传" });
    li.append(name, bar, state);
    list.appendChild(li);
    return { li, bar, state };
  }

  function send(file, ui) {
    return new Promise((resolve) => {
      const data = new FormData();
      for (const el of form.elements) {
        if (el.name && el.name !== "file" && el.value) data.append(el.name, el.value);
      }
      data.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) {
          ui.bar.value = Math.round((e.loaded / e.total) * 100);
          ui.state.textContent = `上传中 ${ui.bar.value}%`;
        }
      };
      xhr.onerror = () => { ui.state.textContent = "上传失败：网络中断，请重试"; ui.li.className = "failed"; resolve(); };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 201 || xhr.status === 200) {
          ui.bar.value = 100;
          const link = body.record_id ? ` <a href="/records/${body.record_id}">查看</a>` : "";
          ui.state.innerHTML = "";
          ui.state.append(body.message || "已保存");
          if (link) ui.state.insertAdjacentHTML("beforeend", link);
          if (body.status === "ingested") {
            ui.li.dataset.record = body.record_id;
            poll(body.record_id, (s) => {
              ui.li.className = s.status;
              ui.li.dataset.status = s.status;
              ui.state.firstChild.textContent =
                s.status === "failed" ? `处理失败：${s.error || ""}` :
                s.status === "processed" ? "已完成：可检索" :
                `${LABELS[s.status]}${s.progress ? ` ${Math.round(s.progress * 100)}%` : ""}`;
            });
          } else {
            ui.li.className = "duplicate";
          }
        } else {
          const detail = typeof body.detail === "string" ? body.detail
            : Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("；") : `服务器返回 ${xhr.status}`;
          ui.state.textContent = `上传失败：${detail}`;
          ui.li.className = "failed";
        }
        resolve();
      };
      ui.state.textContent = "上传中 0%";
      xhr.send(data);
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!chosen.length) { zone.querySelector("#drop-help").textContent = "请先选择或拖入文件"; zone.focus(); return; }
    const files = chosen;
    chosen = [];
    input.value = "";
    zone.querySelector("#drop-help").textContent = `正在上传 ${files.length} 个文件；可继续选择其他文件。完成后刷新页面即可在时间线中看到。`;
    const rows = files.map((f) => [f, row(f)]);
    for (const [f, ui] of rows) await send(f, ui);
  });
})();
