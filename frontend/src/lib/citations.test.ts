import { describe, expect, it } from 'vitest';
import { citedIds, remarkCitations, splitCitations } from './citations';

describe('splitCitations', () => {
  it('splits text around citations', () => {
    expect(splitCitations('Use .backup [post:30], not cp [post:6].')).toEqual([
      { type: 'text', value: 'Use .backup ' },
      { type: 'citation', id: 30 },
      { type: 'text', value: ', not cp ' },
      { type: 'citation', id: 6 },
      { type: 'text', value: '.' },
    ]);
  });

  it('reads adjacent citations and spaces inside the brackets', () => {
    expect(splitCitations('[post:1][post: 2 ]')).toEqual([
      { type: 'citation', id: 1 },
      { type: 'citation', id: 2 },
    ]);
  });

  it('leaves text without citations, and look-alikes, as they are', () => {
    expect(splitCitations('no citations here')).toEqual([{ type: 'text', value: 'no citations here' }]);
    expect(splitCitations('[post:abc] [post:] [posts:3] post:4')).toEqual([
      { type: 'text', value: '[post:abc] [post:] [posts:3] post:4' },
    ]);
    expect(splitCitations('')).toEqual([]);
  });

  it('does not take id 0 for a citation', () => {
    expect(splitCitations('[post:0]')).toEqual([{ type: 'text', value: '[post:0]' }]);
  });
});

describe('qualified citations', () => {
  it('reads the expert a moderator citation names', () => {
    expect(splitCitations('Both agree [post:selfhost_ops/14] [post:ai_architect/42].')).toEqual([
      { type: 'text', value: 'Both agree ' },
      { type: 'citation', id: 14, expertId: 'selfhost_ops' },
      { type: 'text', value: ' ' },
      { type: 'citation', id: 42, expertId: 'ai_architect' },
      { type: 'text', value: '.' },
    ]);
  });

  it('leaves what is no expert id as text', () => {
    expect(splitCitations('[post:Ops/1] [post:a b/2] [post:ops/]')).toEqual([
      { type: 'text', value: '[post:Ops/1] [post:a b/2] [post:ops/]' },
    ]);
  });

  it('are not counted among the plain ids of an expert’s own text', () => {
    expect(citedIds('[post:ops/35] [post:34]')).toEqual([34]);
  });
});

describe('citedIds', () => {
  it('lists each cited id once, first appearance first', () => {
    expect(citedIds('a [post:35] b [post:34] c [post:35] [post:20]')).toEqual([35, 34, 20]);
  });
});

describe('remarkCitations', () => {
  it('turns citations in text nodes into marked links and leaves code and links alone', () => {
    const tree = {
      type: 'root',
      children: [
        {
          type: 'paragraph',
          children: [
            { type: 'text', value: 'See [post:30] and ' },
            { type: 'inlineCode', value: '[post:31]' },
            { type: 'link', url: 'https://t.me/x/1', children: [{ type: 'text', value: '[post:32]' }] },
          ],
        },
        { type: 'code', value: '[post:33]' },
      ],
    };
    remarkCitations()(tree);
    const paragraph = tree.children[0]!.children!;
    expect(paragraph.map((n) => n.type)).toEqual(['text', 'link', 'text', 'inlineCode', 'link']);
    expect(paragraph[1]).toMatchObject({
      type: 'link',
      url: '#post-30',
      data: { hProperties: { dataPostId: '30' } },
    });
    expect(paragraph[3]).toEqual({ type: 'inlineCode', value: '[post:31]' });
    expect(paragraph[4]!.children![0]).toEqual({ type: 'text', value: '[post:32]' });
    expect(tree.children[1]).toEqual({ type: 'code', value: '[post:33]' });
  });
});
