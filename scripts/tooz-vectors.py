#!/usr/bin/python3
"""Golden vectors for HashRing, taken from Python tooz itself.

Run with Debian's interpreter, which sees python3-tooz:

    /usr/bin/python3 scripts/tooz-vectors.py [OUTPUT.json]

It rewrites test/fixtures/hashring-vectors.json, which test/hashring.spec.ts
replays against lib/hashring/hash-ring.ts: same steps, same lookups, and the
node sets must be identical, so Python and Node members agree on owners.

Each case is a list of steps applied to one ring, then a list of lookups over
the shared data keys. Node names and results are strings; a step may add a
node as UTF-8 bytes ("bytes": true) to prove bytes and str place alike.
Data keys are strings (hashed as UTF-8) or {"hex": ...} for raw bytes.
"""

import json
import os
import sys

import pbr.version
from tooz import hashring

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures',
    'hashring-vectors.json')

# Data keys shared by every case: the hand vectors of tooz's own tests, empty,
# non-ASCII, digits, and enough plain keys to land on most arcs of the ring.
KEYS = (['', 'a', 'fake', 'fake-again', '0', '9999', 'чупакабра',
         'شبکه', '節点', '🦄', 'zażółć gęślą jaźń', 'x' * 300,
         {'hex': '5ae2fa90174543acae88a75ba17d3a45'},  # not valid UTF-8
         {'hex': '00'}, {'hex': 'ff' * 8}]
        + [str(i) for i in range(0, 1000, 7)]
        + ['object-%d' % i for i in range(40)])


def key_bytes(key):
    if isinstance(key, dict):
        return bytes.fromhex(key['hex'])
    return key.encode('utf-8')


def as_text(node):
    return node.decode('utf-8') if isinstance(node, bytes) else node


def node_value(name, as_bytes):
    return name.encode('utf-8') if as_bytes else name


def apply(ring, step):
    op = step['op']
    if op == 'add':
        ring.add_node(node_value(step['node'], step.get('bytes', False)),
                      step.get('weight', 1))
    elif op == 'addNodes':
        ring.add_nodes([node_value(n, step.get('bytes', False))
                        for n in step['nodes']], step.get('weight', 1))
    elif op == 'remove':
        ring.remove_node(node_value(step['node'], step.get('bytes', False)))
    else:
        raise ValueError(op)


def default_lookups(names):
    """replicas 1..3 plainly, then with ignored nodes (one unknown to the ring)."""
    names = sorted(names)
    lookups = [{'replicas': r} for r in (1, 2, 3)]
    if names:
        lookups.append({'replicas': 1, 'ignoreNodes': names[:1]})
        lookups.append({'replicas': 2, 'ignoreNodes': names[-2:] + ['nobody']})
    return lookups


def case(name, hash_function, partitions, create, steps=(), lookups=None,
         keys=None):
    ring = hashring.HashRing(create, partitions=partitions,
                             hash_function=hash_function)
    for step in steps:
        apply(ring, step)
    nodes = {as_text(n): w for n, w in ring.nodes.items()}
    if lookups is None:
        lookups = default_lookups(nodes)
    keys = KEYS if keys is None else keys
    for lookup in lookups:
        # Python tells b'bar' from 'bar'; our names are text, so ignore a
        # node in whichever form it sits on the ring.
        ignore = [n.encode('utf-8') if n.encode('utf-8') in ring.nodes else n
                  for n in lookup.get('ignoreNodes', [])]
        lookup['expected'] = [
            sorted(as_text(n) for n in ring.get_nodes(
                key_bytes(k), ignore_nodes=ignore,
                replicas=lookup['replicas']))
            for k in keys]
    out = {
        'name': name,
        'hashFunction': hash_function,
        'partitions': partitions,
        'create': sorted(create),
        'steps': list(steps),
        'nodes': nodes,
        'size': len(ring),
        'lookups': lookups,
    }
    if keys is not KEYS:
        out['keys'] = keys
    return out


FEW_KEYS = KEYS[:15] + [str(i) for i in range(40)]
NON_ASCII = ['чупакабра', 'شبکه', '節点', '🦄-node', 'plain']


def cases():
    yield case('md5, 32 partitions, foo/bar/baz (tooz test vectors)', 'md5',
               32, ['foo', 'bar', 'baz'])
    yield case('md5, 32 partitions, foo/bar', 'md5', 32, ['foo', 'bar'])
    yield case('md5, 32 partitions, ten services 0..9', 'md5', 32,
               [str(i) for i in range(10)],
               lookups=[{'replicas': 1}, {'replicas': 3},
                        {'replicas': 2, 'ignoreNodes': ['0', '5']}])
    yield case('md5, 8 partitions, non-ASCII node names', 'md5', 8, NON_ASCII)
    yield case('md5, 100 partitions, weights 1/2/3', 'md5', 100, [],
               [{'op': 'add', 'node': 'a', 'weight': 1},
                {'op': 'add', 'node': 'b', 'weight': 2},
                {'op': 'add', 'node': 'c', 'weight': 3}])
    yield case('md5, 32 partitions, addNodes with weight 10', 'md5', 32,
               ['foo', 'bar'],
               [{'op': 'addNodes', 'nodes': ['baz', 'baz2'], 'weight': 10}])
    yield case('md5, 32 partitions, add then remove', 'md5', 32,
               ['foo', 'bar', 'baz'],
               [{'op': 'add', 'node': 'qux', 'weight': 2},
                {'op': 'remove', 'node': 'bar'},
                {'op': 'add', 'node': 'quux'},
                {'op': 'remove', 'node': 'foo'}])
    yield case('md5, 32 partitions, nodes added as UTF-8 bytes', 'md5', 32,
               ['foo'],
               [{'op': 'add', 'node': 'чупакабра', 'bytes': True},
                {'op': 'add', 'node': 'bar', 'bytes': True, 'weight': 2},
                {'op': 'remove', 'node': 'foo'}])
    # tooz quirk: re-adding accumulates points and keeps the last weight, so
    # removing after weight 3 then 1 deletes only 32 points and leaves 64
    # stale ones that still answer with the removed node.
    yield case('md5, 32 partitions, re-add with a lower weight then remove '
               '(stale points)', 'md5', 32, ['bar', 'baz'],
               [{'op': 'add', 'node': 'foo', 'weight': 3},
                {'op': 'add', 'node': 'foo', 'weight': 1},
                {'op': 'remove', 'node': 'foo'}],
               lookups=[{'replicas': 1}, {'replicas': 2}, {'replicas': 3},
                        {'replicas': 1, 'ignoreNodes': ['foo']},
                        {'replicas': 1, 'ignoreNodes': ['bar']}])
    yield case('md5, 32 partitions, re-add with a lower weight, kept',
               'md5', 32, ['bar'],
               [{'op': 'add', 'node': 'foo', 'weight': 3},
                {'op': 'add', 'node': 'foo', 'weight': 1}])
    yield case('md5, 32 partitions, re-add with a higher weight then remove',
               'md5', 32, ['bar', 'foo'],
               [{'op': 'add', 'node': 'foo', 'weight': 3},
                {'op': 'remove', 'node': 'foo'}])
    # Weight 0 gives a node no points (range(partitions * 0)); it still
    # counts as a candidate, so tooz would spin for ever on more replicas
    # than the nodes with points: the lookups stay within those.
    yield case('md5, 32 partitions, weight 0 gets no points', 'md5', 32,
               ['foo', 'bar'],
               [{'op': 'add', 'node': 'idle', 'weight': 0},
                {'op': 'add', 'node': 'gone', 'weight': 0},
                {'op': 'remove', 'node': 'gone'},
                {'op': 'add', 'node': 'baz', 'weight': 2},
                {'op': 'add', 'node': 'baz', 'weight': 0}],
               lookups=[{'replicas': 1}, {'replicas': 2},
                        {'replicas': 1, 'ignoreNodes': ['foo']},
                        {'replicas': 2, 'ignoreNodes': ['idle']}])
    yield case('md5, 32 partitions, single node, replicas beyond the nodes',
               'md5', 32, ['only'],
               lookups=[{'replicas': 1}, {'replicas': 5}, {'replicas': 0},
                        {'replicas': 1, 'ignoreNodes': ['only']}],
               keys=FEW_KEYS)
    yield case('sha1, 32 partitions, foo/bar/baz + heavy', 'sha1', 32,
               ['foo', 'bar', 'baz'],
               [{'op': 'add', 'node': 'heavy', 'weight': 5}])
    yield case('sha256, 32 partitions, foo/bar', 'sha256', 32, ['foo', 'bar'])
    yield case('sha256, 100 partitions, non-ASCII, weighted', 'sha256', 100,
               NON_ASCII[:3],
               [{'op': 'add', 'node': NON_ASCII[3], 'weight': 2},
                {'op': 'remove', 'node': NON_ASCII[0]}])
    yield case('sha512, 8 partitions, five nodes', 'sha512', 8,
               ['n1', 'n2', 'n3', 'n4', 'n5'],
               [{'op': 'remove', 'node': 'n3'}])
    for fn in ('sha224', 'sha384', 'sha512_224', 'sha512_256', 'sha3_224',
               'sha3_256', 'sha3_384', 'sha3_512', 'blake2b', 'blake2s',
               'ripemd160', 'sm3', 'md5-sha1'):
        yield case('%s, 8 partitions, foo/bar/baz' % fn, fn, 8,
                   ['foo', 'bar', 'baz'],
                   lookups=[{'replicas': 1}, {'replicas': 2},
                            {'replicas': 1, 'ignoreNodes': ['foo']}],
                   keys=FEW_KEYS)


def main():
    data = {
        'generator': 'scripts/tooz-vectors.py',
        'tooz': pbr.version.VersionInfo('tooz').version_string(),
        'python': sys.version.split()[0],
        'keys': KEYS,
        'cases': list(cases()),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # One case per line: compact enough to commit, and a regenerated fixture
    # diffs case by case.
    compact = dict(ensure_ascii=False, separators=(',', ':'))
    head = {k: v for k, v in data.items() if k != 'cases'}
    with open(OUT, 'w', encoding='utf-8') as f:
        f.write(json.dumps(head, **compact)[:-1] + ',"cases":[\n')
        f.write(',\n'.join(json.dumps(c, **compact) for c in data['cases']))
        f.write('\n]}\n')
    print('%s: %d cases, %d bytes' % (os.path.normpath(OUT),
                                      len(data['cases']),
                                      os.path.getsize(OUT)))


if __name__ == '__main__':
    main()
