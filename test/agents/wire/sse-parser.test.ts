import { describe, expect, it } from 'vitest';
import { SseParser } from '../../../src/agents/wire/sse-parser.js';

describe('SseParser', () => {
  it('parses events split across chunks, with ids, comments, CRLF and multi-line data', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\nevent: jour')).toEqual([]);
    expect(parser.push('nal\ndata: {"a":1}\n\n: heartbeat\n\n')).toEqual([
      { event: 'journal', data: '{"a":1}', id: '7' },
    ]);
    expect(parser.push('data: one\r\ndata:two\r\n\r\nevent: gap\ndata: x\n')).toEqual([
      { event: 'message', data: 'one\ntwo' },
    ]);
    expect(parser.push('\n')).toEqual([{ event: 'gap', data: 'x' }]);
  });
});
