// wskit chat page: the browser's own WebSocket, no libraries.
//
// Protocol (examples/c/chat_server.c and examples/python/chat.py speak it):
//   connect to  ws(s)://HOST:PORT/chat?room=ROOM&name=NAME   (percent-encoded)
//   server -> page, text frames holding one JSON object each:
//     {"type":"hello", "server":..., "room":..., "name":..., "peer":"ip:port",
//      "path":..., "query":..., "headers":[[name, value], ...], "members":[names]}   (first)
//     {"type":"join"|"leave", "name":...}     {"type":"message", "name":..., "text":...}
//   page -> server: each text frame is one chat message, relayed to everyone in the room (the
//   sender included). "/close CODE REASON" asks the server to close this connection with that
//   code and reason: a server-side close, for demos and tests.
//
// The page logs every frame it sends and receives (time, direction, opcode, size, data), shows the
// handshake headers from the hello, shows a close by the server (code and reason), and
// reconnects with exponential backoff (0.25 s doubling to 4 s) until it is open again.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const encoder = new TextEncoder();
  const MAX_FRAME_ROWS = 200;
  const BACKOFF_FIRST_MS = 250;
  const BACKOFF_MAX_MS = 4000;

  function defaultUrl() {
    if (params.get("ws")) return params.get("ws");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host || "127.0.0.1:9002"}/chat`;
  }

  const state = {
    base: defaultUrl(),
    ws: null,
    name: "",
    room: "",
    joined: false,
    opens: 0,
    backoffMs: BACKOFF_FIRST_MS,
    retryTimer: null,
    members: new Set(),
  };

  function clock() {
    const now = new Date();
    const pad = (n, w) => String(n).padStart(w, "0");
    return `${pad(now.getHours(), 2)}:${pad(now.getMinutes(), 2)}:${pad(now.getSeconds(), 2)}.` +
      pad(now.getMilliseconds(), 3);
  }

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  // One row of the frame log. dir: "sent" or "received".
  function logFrame(dir, opcode, size, data) {
    const body = $("frames");
    const row = document.createElement("tr");
    row.className = `${dir} ${opcode}`;
    row.dataset.dir = dir;
    row.dataset.opcode = opcode;
    cell(row, clock(), "time");
    cell(row, dir === "sent" ? "\u2191" : "\u2193", "dir").title = dir;
    cell(row, opcode, "opcode");
    cell(row, String(size), "size");
    cell(row, data, "data");
    body.appendChild(row);
    while (body.rows.length > MAX_FRAME_ROWS) body.deleteRow(0);
    row.scrollIntoView({ block: "nearest" });
  }

  function setStatus(kind, text) {
    const el = $("status");
    el.dataset.state = kind;
    el.className = `status ${kind}`;
    el.textContent = text;
  }

  function addLine(cls, who, text) {
    const li = document.createElement("li");
    li.className = cls;
    if (who !== null) {
      li.dataset.name = who;
      const b = document.createElement("b");
      b.textContent = who;
      li.appendChild(b);
    }
    const span = document.createElement("span");
    span.className = "text";
    span.textContent = text;
    li.appendChild(span);
    li.dataset.text = text;
    $("messages").appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function showMembers() {
    $("members").textContent = state.members.size ? `(${[...state.members].join(", ")})` : "";
  }

  function showHello(hello) {
    $("room-name").textContent = hello.room;
    $("server-info").textContent =
      `${hello.server} saw ${hello.path}${hello.query ? "?" + hello.query : ""} from ${hello.peer}`;
    const body = $("headers");
    body.textContent = "";
    for (const [name, value] of hello.headers || []) {
      const row = document.createElement("tr");
      row.dataset.name = name.toLowerCase();
      cell(row, name, "name");
      cell(row, value, "value");
      body.appendChild(row);
    }
    state.members = new Set(hello.members || []);
    showMembers();
  }

  function onServerMessage(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      addLine("system", null, `not JSON: ${text}`);
      return;
    }
    switch (msg.type) {
      case "hello":
        showHello(msg);
        addLine("system", null, `joined room ${msg.room} as ${msg.name}`);
        break;
      case "join":
        state.members.add(msg.name);
        showMembers();
        addLine("event", null, `${msg.name} joined`);
        break;
      case "leave":
        state.members.delete(msg.name);
        showMembers();
        addLine("event", null, `${msg.name} left`);
        break;
      case "message":
        addLine("msg", msg.name, msg.text);
        break;
      default:
        addLine("system", null, `unknown message type ${msg.type}`);
    }
  }

  function url() {
    const q = new URLSearchParams({ room: state.room, name: state.name });
    return `${state.base}?${q}`;
  }

  function setComposing(enabled) {
    $("text").disabled = !enabled;
    $("send").disabled = !enabled;
  }

  function connect() {
    state.retryTimer = null;
    const target = url();
    $("url").textContent = target;
    setStatus("connecting", "connecting\u2026");
    let ws;
    try {
      ws = new WebSocket(target);
    } catch (err) {
      setStatus("closed", `bad URL: ${err.message}`);
      return;
    }
    ws.binaryType = "arraybuffer";
    state.ws = ws;
    let closingByUs = false;
    ws.closeByUs = (code, reason) => {
      closingByUs = true;
      ws.close(code, reason);
    };

    ws.onopen = () => {
      if (state.opens > 0) $("reconnects").textContent = String(state.opens);
      state.opens += 1;
      state.backoffMs = BACKOFF_FIRST_MS;
      setStatus("open", "open");
      setComposing(true);
      $("text").focus();
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") {
        logFrame("received", "text", encoder.encode(event.data).length, event.data);
        onServerMessage(event.data);
      } else {
        logFrame("received", "binary", event.data.byteLength, `(${event.data.byteLength} bytes)`);
      }
    };
    ws.onerror = () => {
      // The close event follows with the details; browsers give none here.
    };
    ws.onclose = (event) => {
      if (state.ws !== ws) return;
      state.ws = null;
      setComposing(false);
      const reason = event.reason;
      const wasOpen = $("status").dataset.state === "open";
      // A close frame exists only for a connection that was open (and 1005/1006 are never sent).
      if (wasOpen && event.code !== 1005 && event.code !== 1006) {
        logFrame(closingByUs ? "sent" : "received", "close", encoder.encode(reason).length + 2,
          `${event.code}${reason ? " " + reason : ""}`);
      }
      if (wasOpen && !closingByUs) {
        const info = $("close-info");
        info.hidden = false;
        info.dataset.code = String(event.code);
        info.dataset.reason = reason;
        info.dataset.clean = String(event.wasClean);
        info.textContent = `the server closed the connection: code ${event.code}` +
          (reason ? `, reason \u201c${reason}\u201d` : "") + (event.wasClean ? "" : " (not clean)");
        addLine("system", null, `connection closed by the server (${event.code}${reason ? " " + reason : ""})`);
      }
      if (!state.joined) {
        setStatus("closed", "closed");
        return;
      }
      const delay = state.backoffMs;
      state.backoffMs = Math.min(state.backoffMs * 2, BACKOFF_MAX_MS);
      setStatus("closed", `closed (${event.code}); reconnecting in ${(delay / 1000).toFixed(2)} s`);
      state.retryTimer = setTimeout(connect, delay);
    };
  }

  function join(name, room) {
    state.name = name;
    state.room = room;
    state.joined = true;
    if (state.retryTimer) clearTimeout(state.retryTimer);
    if (state.ws) {
      const old = state.ws;
      state.ws = null;
      old.closeByUs(1000, "switching room");
    }
    $("messages").textContent = "";
    connect();
  }

  $("join").addEventListener("submit", (event) => {
    event.preventDefault();
    join($("name").value.trim(), $("room").value.trim());
  });

  $("compose").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    const ws = state.ws;
    if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(text);
    logFrame("sent", "text", encoder.encode(text).length, text);
    $("text").value = "";
  });

  if (params.get("name")) $("name").value = params.get("name");
  if (params.get("room")) $("room").value = params.get("room");
  if (params.get("name") && params.get("room")) join(params.get("name"), params.get("room"));
})();
