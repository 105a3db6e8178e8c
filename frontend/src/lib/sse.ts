// Server-Sent Events, read from a fetch() body: the query is a POST, so EventSource cannot.
//
// `SseParser` turns byte (or text) chunks into messages, following the WHATWG
// "event stream interpretation": lines end in \r\n, \n or \r (a \r\n may be split across
// chunks), lines starting with ':' are comments (sse-starlette's `: ping` keep-alives),
// `data:` lines accumulate until a blank line dispatches the message, and an unfinished
// message at the end of the stream is dropped. It is a pure class: no I/O, no timers.

export interface SseMessage {
  /** The `event:` field, "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last `id:` field seen, "" when none. */
  id: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private data: string[] = [];
  private eventName = '';
  private lastId = '';
  private sawData = false;
  /** Comment lines seen so far (keep-alives); useful for tests and diagnostics. */
  comments = 0;

  /** Feed one chunk; returns the messages it completed (possibly none). */
  push(chunk: Uint8Array | string): SseMessage[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    return this.consume(text, false);
  }

  /** The stream ended: flush the decoder; an unfinished message is dropped, as the spec says. */
  end(): SseMessage[] {
    const rest = this.decoder.decode();
    const messages = this.consume(rest, true);
    this.data = [];
    this.sawData = false;
    this.eventName = '';
    return messages;
  }

  /** True when part of a message has arrived but not its closing blank line. */
  get pending(): boolean {
    return this.sawData || this.buffer.length > 0;
  }

  private consume(text: string, final: boolean): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      if (cr === -1 && lf === -1) break;
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // A \r at the very end may be the first half of a \r\n split across chunks.
        if (cr === this.buffer.length - 1 && !final) break;
        end = cr;
        next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      const message = this.line(this.buffer.slice(start, end));
      if (message) out.push(message);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    if (final && this.buffer) {
      // A last line without its line ending cannot finish a message: it is dropped.
      this.buffer = '';
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.comments += 1;
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.sawData = true;
        break;
      case 'event':
        this.eventName = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields: nothing a fetch()-based reader needs.
        break;
    }
    return null;
  }

  private dispatch(): SseMessage | null {
    const sawData = this.sawData;
    const message: SseMessage = {
      event: this.eventName || 'message',
      data: this.data.join('\n'),
      id: this.lastId,
    };
    this.data = [];
    this.sawData = false;
    this.eventName = '';
    return sawData ? message : null;
  }
}

/** Read a byte stream to its end, yielding each message as it completes. */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  parser: SseParser = new SseParser(),
): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value) yield* parser.push(value);
    }
    finished = true;
    yield* parser.end();
  } finally {
    // The reader stopped early (a terminal event, an error): close the connection.
    if (!finished) reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
