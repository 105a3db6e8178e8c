import { describe, expect, it } from 'vitest';
import { readSse, SseParser, type SseMessage } from './sse';

const encode = (text: string) => new TextEncoder().encode(text);
const data = (messages: SseMessage[]) => messages.map((m) => m.data);

function streamOf(chunks: Array<string | Uint8Array>, error?: Error): ReadableStream<Uint8Array> {
  // One chunk per read, as a network delivers them; then the end, or the error.
  const queue = [...chunks];
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = queue.shift();
      if (chunk !== undefined) controller.enqueue(typeof chunk === 'string' ? encode(chunk) : chunk);
      else if (error) controller.error(error);
      else controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const message of readSse(stream)) out.push(message.data);
  return out;
}

describe('SseParser', () => {
  it('joins an event split across chunks, even inside a multi-byte character', () => {
    const parser = new SseParser();
    const bytes = encode('data: {"message":"бэкапы"}\r\n\r\n');
    const cut = bytes.indexOf(0xd0, 20) + 1; // between the two bytes of a Cyrillic letter
    expect(parser.push(bytes.slice(0, 5))).toEqual([]);
    expect(parser.push(bytes.slice(5, cut))).toEqual([]);
    expect(data(parser.push(bytes.slice(cut)))).toEqual(['{"message":"бэкапы"}']);
  });

  it('returns several events that arrive in one chunk, in order', () => {
    const parser = new SseParser();
    const messages = parser.push('data: one\n\ndata: two\n\ndata: three\n\n');
    expect(data(messages)).toEqual(['one', 'two', 'three']);
  });

  it('reads \\r\\n framing as sse-starlette sends it, with the \\r\\n split across chunks', () => {
    const parser = new SseParser();
    expect(parser.push('data: {"a":1}\r')).toEqual([]);
    expect(parser.push('\n\r')).toEqual([]);
    // The \n completing the blank line's \r\n must not count as a second blank line.
    expect(data(parser.push('\ndata: {"b":2}\r\n\r\n'))).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('accepts lone \\r and \\n line endings', () => {
    const parser = new SseParser();
    expect(data(parser.push('data: a\r\rdata: b\n\n'))).toEqual(['a', 'b']);
  });

  it('ignores keep-alive comment lines and counts them', () => {
    const parser = new SseParser();
    const messages = parser.push(': ping - 2024-01-01 00:00:00\r\n\r\ndata: real\r\n: ping\r\n\r\n');
    expect(data(messages)).toEqual(['real']);
    expect(parser.comments).toBe(2);
  });

  it('joins multi-line data, keeps the event name and id, strips one leading space', () => {
    const parser = new SseParser();
    const [message] = parser.push('event: update\nid: 7\ndata:  two spaces\ndata:second\n\n');
    expect(message).toEqual({ event: 'update', id: '7', data: ' two spaces\nsecond' });
  });

  it('dispatches nothing for a blank line without data', () => {
    const parser = new SseParser();
    expect(parser.push('\n\nretry: 1000\n\n')).toEqual([]);
  });

  it('drops an event whose closing blank line never came when the stream ends', () => {
    const parser = new SseParser();
    expect(data(parser.push('data: whole\n\ndata: half'))).toEqual(['whole']);
    expect(parser.pending).toBe(true);
    expect(parser.end()).toEqual([]);
  });
});

describe('readSse', () => {
  it('yields the events of a byte stream as they complete', async () => {
    const stream = streamOf(['data: {"event_type":"start"}\r\n', '\r\n: ping\r\n\r\ndata: {"event_type":', '"complete"}\r\n\r\n']);
    expect(await collect(stream)).toEqual(['{"event_type":"start"}', '{"event_type":"complete"}']);
  });

  it('gives what arrived and then the error when the stream breaks before complete', async () => {
    const stream = streamOf(['data: {"event_type":"start"}\r\n\r\ndata: {"event_ty'], new TypeError('network error'));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const message of readSse(stream)) seen.push(message.data);
      })(),
    ).rejects.toThrow('network error');
    expect(seen).toEqual(['{"event_type":"start"}']);
  });
});
