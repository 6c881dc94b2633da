// A small SMTP server on loopback for the browser tests (RFC 5321, what a submission client
// uses): every message it accepts is written to DIR as one file (`<n>.eml`), for the tests to
// read. `node smtp-sink.js PORT DIR`.
const net = require("node:net");
const fs = require("node:fs");
const path = require("node:path");

const [port, dir] = process.argv.slice(2);
fs.mkdirSync(dir, { recursive: true });
let count = 0;

net.createServer((socket) => {
  let buffer = "";
  let data = null;
  const say = (line) => socket.write(`${line}\r\n`);
  say("220 sink.test ESMTP");
  socket.on("data", (chunk) => {
    buffer += chunk.toString("latin1");
    let i;
    while ((i = buffer.indexOf("\r\n")) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (data !== null) {
        if (line === ".") {
          count += 1;
          fs.writeFileSync(path.join(dir, `${Date.now()}-${count}.eml`), data.join("\r\n"));
          data = null;
          say("250 OK queued");
        } else {
          data.push(line.startsWith(".") ? line.slice(1) : line);
        }
        continue;
      }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === "EHLO" || verb === "HELO") say("250 sink.test");
      else if (verb === "MAIL" || verb === "RCPT" || verb === "RSET" || verb === "NOOP") say("250 OK");
      else if (verb === "DATA") { data = []; say("354 go on"); }
      else if (verb === "QUIT") { say("221 bye"); socket.end(); }
      else say("502 not here");
    }
  });
  socket.on("error", () => {});
}).listen(Number(port), "127.0.0.1");
