// A minimal QMP client over a unix socket (no dependencies): connect, negotiate
// capabilities, run commands one at a time, skip asynchronous events.
import net from 'node:net';

export class Qmp {
  /** @param {string} socketPath */
  static async connect(socketPath, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise((resolve, reject) => {
          const s = net.createConnection(socketPath);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const qmp = new Qmp(sock);
        await qmp.next(); // greeting {"QMP": {...}}
        await qmp.execute('qmp_capabilities');
        return qmp;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`QMP: cannot connect to ${socketPath}: ${err.message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = '';
    this.queue = [];
    this.waiters = [];
    this.closed = false;
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line);
        if (msg.event) continue; // STOP, RESUME, DUMP_COMPLETED, ... are not answers
        const w = this.waiters.shift();
        if (w) w.resolve(msg);
        else this.queue.push(msg);
      }
    });
    const fail = (err) => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w.reject(err);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('QMP connection closed')));
  }

  next() {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.reject(new Error('QMP connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Run one QMP command; resolves with its `return` value, rejects with its `error`. */
  async execute(command, args) {
    this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    const msg = await this.next();
    if (msg.error) throw new Error(`QMP ${command}: ${msg.error.class}: ${msg.error.desc}`);
    return msg.return;
  }

  /** An HMP command through human-monitor-command; output with "\r\n" turned into "\n". */
  async hmp(commandLine, cpuIndex) {
    const args = { 'command-line': commandLine };
    if (cpuIndex !== undefined) args['cpu-index'] = cpuIndex;
    const out = await this.execute('human-monitor-command', args);
    return String(out).replace(/\r\n/g, '\n');
  }

  close() {
    this.sock.end();
  }
}
