// autobahn-js (npm) as a foreign client of a WAMP router: run by tests/test_router_autobahn_js.py.
//
//     node peer.js SCENARIO URL SERIALIZER [ARGS...]
//
// URL is ws://host:port/path (WebSocket), rs://host:port or rs://unix:/path (autobahn-js's Node
// RawSocket transport: JSON only). SERIALIZER is json, msgpack or cbor. Prints one JSON object a
// line per observed outcome (the test compares them exactly); diagnostics go to stderr. Exits 0
// when the scenario ran to its end, 1 on anything unexpected (and after 20 s at the latest).
//
// The modules are found through NODE_PATH (the test's npm cache) or next to this file.
'use strict';

// autobahn 26 uses the WebSocket global of Node >= 22: on Node 20 give it the `ws` package, with
// an 'error' listener, or a refused connection raises an unhandled 'error' event and kills node
// (the 'close' event follows either way, which is what autobahn-js reports).
const WS = require('ws');
globalThis.WebSocket = class extends WS {
    constructor(...args) {
        super(...args);
        this.on('error', (err) => console.error('ws error:', err.message));
    }
};
delete process.env.AUTOBAHN_DEBUG; // it would log to stdout
const autobahn = require('autobahn');

const [scenario, url, serializerName, ...extra] = process.argv.slice(2);
const REALM = 'realm1';

function out(check, fields) {
    process.stdout.write(JSON.stringify({ check, ...fields }) + '\n');
}

function serializer(name) {
    const classes = {
        json: autobahn.serializer.JSONSerializer,
        msgpack: autobahn.serializer.MsgpackSerializer,
        cbor: autobahn.serializer.CBORSerializer,
    };
    if (!classes[name]) throw new Error(`no ${name} serializer in autobahn-js`);
    return new classes[name]();
}

function transport(address, name) {
    if (address.startsWith('ws://') || address.startsWith('wss://')) {
        return { type: 'websocket', url: address, serializers: [serializer(name)] };
    }
    if (!address.startsWith('rs://')) throw new Error(`unsupported URL ${address}`);
    if (name !== 'json') throw new Error('autobahn-js speaks JSON only over RawSocket');
    const rest = address.slice('rs://'.length);
    if (rest.startsWith('unix:')) return { type: 'rawsocket', path: rest.slice('unix:'.length) };
    const colon = rest.lastIndexOf(':');
    return { type: 'rawsocket', host: rest.slice(0, colon), port: Number(rest.slice(colon + 1)) };
}

// Join the realm: resolves {session, details, leave}; rejects {reason, details} when the
// connection closes before the session joined (refused transport, ABORT).
function join(options = {}) {
    return new Promise((resolve, reject) => {
        let joined = false;
        let closed;
        const done = new Promise((r) => { closed = r; });
        const connection = new autobahn.Connection({
            realm: REALM,
            transports: [transport(url, serializerName)],
            max_retries: 0,
            retry_if_unreachable: false,
            ...options,
        });
        connection.onopen = (session, details) => {
            joined = true;
            resolve({
                session,
                details,
                closed: done,
                leave: () => { connection.close(); return done; },
            });
        };
        connection.onclose = (reason, details) => {
            closed({ reason, details });
            if (!joined) reject({ reason, closeReason: details.reason, message: details.message });
            return true; // no reconnect
        };
        connection.open();
    });
}

// The outcome of a call: its result, or the error it was refused with.
async function outcome(promise) {
    try {
        const result = await promise;
        if (result instanceof autobahn.Result) return { args: result.args, kwargs: result.kwargs };
        return { result };
    } catch (err) {
        if (err instanceof autobahn.Error) return { error: err.error, args: err.args, kwargs: err.kwargs };
        throw err;
    }
}

// A promise and the function that resolves it.
function signal() {
    let resolve;
    const promise = new Promise((r) => { resolve = r; });
    return { promise, resolve };
}

const describeBytes = (value) => ({
    buffer: Buffer.isBuffer(value) || value instanceof Uint8Array,
    hex: Buffer.from(value).toString('hex'),
});

// ------------------------------------------------------------------------------------------------
// Scenarios

const SCENARIOS = {};

// RPC: args/kwargs both ways, a single result, the callee's ApplicationError with args/kwargs,
// a plain exception in the callee, no_such_procedure; progressive results; caller disclosure.
SCENARIOS.rpc = async () => {
    const callee = await join();
    const caller = await join();
    await callee.session.register('com.js.add', (args, kwargs, details) => {
        const sum = args[0] + args[1];
        return new autobahn.Result([sum * (kwargs.scale || 1)], {
            sum, procedure: details.procedure, caller: details.caller === caller.session.id,
        });
    });
    await callee.session.register('com.js.echo', (args) => args[0]);
    await callee.session.register('com.js.nothing', () => null);
    await callee.session.register('com.js.fail', (args) => {
        throw new autobahn.Error('com.js.failed', ['no', args[0]], { why: 'because' });
    });
    await callee.session.register('com.js.crash', () => {
        throw 'boom'; // eslint-disable-line no-throw-literal
    });
    await callee.session.register('com.js.countdown', async (args, kwargs, details) => {
        const offered = details.progress !== null;
        if (offered) {
            for (let i = args[0]; i > 0; i -= 1) details.progress([i], { left: i });
        }
        return new autobahn.Result(['liftoff'], { progress_offered: offered });
    });

    out('call', await outcome(caller.session.call('com.js.add', [2, 3], { scale: 10 }, { disclose_me: true })));
    out('single result', await outcome(caller.session.call('com.js.echo', [{ nested: [1, 'two', null, true, 2.5] }])));
    out('no result', await outcome(caller.session.call('com.js.nothing')));
    out('application error', await outcome(caller.session.call('com.js.fail', [7])));
    out('runtime error', await outcome(caller.session.call('com.js.crash')));
    out('no_such_procedure', await outcome(caller.session.call('com.js.nobody')));

    const progress = [];
    const final = await outcome(caller.session.call('com.js.countdown', [3], {}, { receive_progress: true })
        .then((x) => x, (e) => { throw e; }, (p) => progress.push({ args: p.args, kwargs: p.kwargs })));
    out('progressive results', { progress, final });
    out('no progress asked', await outcome(caller.session.call('com.js.countdown', [3])));

    await caller.leave();
    await callee.leave();
    out('left', {});
};

// Shared registrations: two callees with invoke 'roundrobin' alternate; a third callee asking for
// another policy, or for a single registration, is refused.
SCENARIOS.shared = async () => {
    const first = await join();
    const second = await join();
    const third = await join();
    const caller = await join();
    await first.session.register('com.js.shared', () => 'first', { invoke: 'roundrobin' });
    await second.session.register('com.js.shared', () => 'second', { invoke: 'roundrobin' });
    const picks = [];
    for (let i = 0; i < 4; i += 1) picks.push((await outcome(caller.session.call('com.js.shared'))).result);
    out('roundrobin', { picks });
    for (const options of [{ invoke: 'first' }, {}]) {
        try {
            await third.session.register('com.js.shared', () => 'third', options);
            out('register refused', { options, error: null });
        } catch (err) {
            out('register refused', { options, error: err.error });
        }
    }
    for (const s of [caller, third, second, first]) await s.leave();
};

// Pub/sub: exact, prefix and wildcard subscriptions (details.topic), args/kwargs, acknowledge.
SCENARIOS.pubsub = async () => {
    const subscriber = await join();
    const publisher = await join();
    const got = [];
    const end = signal();
    const record = (name) => (args, kwargs, details) => {
        got.push({ sub: name, topic: details.topic, args, kwargs, publisher: details.publisher === publisher.session.id });
    };
    await subscriber.session.subscribe('com.js.topic.a', record('exact'));
    await subscriber.session.subscribe('com.js.topic.', record('prefix'), { match: 'prefix' });
    await subscriber.session.subscribe('com.js..a', record('wildcard'), { match: 'wildcard' });
    await subscriber.session.subscribe('com.js.end', () => end.resolve());

    const publication = await publisher.session.publish('com.js.topic.a', [1, 'x'], { k: { v: [true] } }, { acknowledge: true });
    out('acknowledge', { publication: typeof publication.id, id_is_integer: Number.isSafeInteger(publication.id) });
    publisher.session.publish('com.js.topic.b', ['prefix only']);
    publisher.session.publish('com.js.other.a', [], { only: 'wildcard' });
    publisher.session.publish('com.js.topic.a.deep', ['prefix again']);
    publisher.session.publish('com.js.topics', ['nobody']);
    try {
        await publisher.session.publish('com.js..bad', [], {}, { acknowledge: true });
        out('invalid topic', { error: null });
    } catch (err) {
        out('invalid topic', { error: err.error });
    }
    publisher.session.publish('com.js.end');
    await end.promise;
    // Events to one session's subscriptions of one publication come in the router's order.
    const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
    got.sort((a, b) => cmp(a.topic, b.topic) || cmp(a.sub, b.sub));
    for (const event of got) out('event', event);
    await publisher.leave();
    await subscriber.leave();
};

// Publisher exclusion and subscriber black/white listing by session ID, authid and authrole.
SCENARIOS.filter = async () => {
    const names = ['A', 'B', 'C'];
    const sessions = {};
    for (const n of names) sessions[n] = await join();
    const got = { A: [], B: [], C: [] };
    const ends = [];
    for (const n of names) {
        const end = signal();
        ends.push(end.promise);
        await sessions[n].session.subscribe('com.js.filter', (args) => {
            if (args[0] === 'end') end.resolve(); else got[n].push(args[0]);
        });
    }
    const id = (n) => sessions[n].session.id;
    const authid = (n) => sessions[n].details.authid;
    const A = sessions.A.session;
    const publications = [
        ['default', {}],
        ['exclude_me false', { exclude_me: false }],
        ['exclude B', { exclude_me: false, exclude: [id('B')] }],
        ['eligible B', { exclude_me: false, eligible: [id('B')] }],
        ['eligible A B, exclude B', { exclude_me: false, eligible: [id('A'), id('B')], exclude: [id('B')] }],
        ['eligible_authid C', { exclude_me: false, eligible_authid: [authid('C')] }],
        ['exclude_authid C', { exclude_me: false, exclude_authid: [authid('C')] }],
        ['exclude_authrole anonymous', { exclude_me: false, exclude_authrole: ['anonymous'] }],
        ['eligible_authrole anonymous', { eligible_authrole: ['anonymous'] }],
        ['eligible empty', { exclude_me: false, eligible: [] }],
    ];
    for (const [label, options] of publications) {
        await A.publish('com.js.filter', [label], {}, { ...options, acknowledge: true });
    }
    A.publish('com.js.filter', ['end'], {}, { exclude_me: false });
    await Promise.all(ends);
    out('received', got);
    for (const n of names) await sessions[n].leave();
};

// The router ends a session (wamp.session.kill from another session): the killed one sees
// GOODBYE with the reason (and message) given; autobahn-js answers 'wamp.error.goodbye_and_out'.
async function killScenario(invalidFirst) {
    const killer = await join();
    const victim = await join();
    const victimId = victim.session.id;
    const goodbye = signal();
    victim.session.onleave = ((original) => function (reason, details) {
        goodbye.resolve({ reason, message: details.message });
        return original.call(this, reason, details);
    })(victim.session.onleave);
    const kill = (reason) => Promise.race([
        outcome(killer.session.call('wamp.session.kill', [victimId], { reason, message: 'bye' })),
        killer.closed.then(() => ({ killer_closed: true })),
    ]);
    if (invalidFirst) {
        const refused = await kill('not a uri');
        out('kill with an invalid reason', refused);
        if (refused.killer_closed) {
            await victim.leave();
            return;
        }
    }
    out('kill', await kill('com.js.kicked'));
    const { reason, message } = await goodbye.promise;
    out('killed', { reason });
    out('goodbye message', { message: message === undefined ? null : message });
    out('victim gone', await outcome(killer.session.call('wamp.session.get', [victimId])));
    await killer.leave();
}

SCENARIOS.kill = () => killScenario(false);
// A reason that is no URI is the caller's error; the victim stays killable.
SCENARIOS['kill-invalid-reason'] = () => killScenario(true);

// Authentication: ticket, WAMP-CRA (plain and salted), WAMP-Cryptosign; wrong credentials and
// an unknown authid are refused with ABORT.
SCENARIOS.auth = async () => {
    const [ticketId, ticket, craId, craSecret, saltedId, saltedSecret, cryptosignId, seedHex] = extra;
    const ticketAuth = (id, secret) => ({
        authmethods: ['ticket'], authid: id,
        onchallenge: (session, method) => {
            if (method !== 'ticket') throw new Error(`unexpected ${method}`);
            return secret;
        },
    });
    const craAuth = (id, secret) => ({
        authmethods: ['wampcra'], authid: id,
        onchallenge: (session, method, challengeExtra) => {
            if (method !== 'wampcra') throw new Error(`unexpected ${method}`);
            const key = challengeExtra.salt
                ? autobahn.auth_cra.derive_key(secret, challengeExtra.salt, challengeExtra.iterations, challengeExtra.keylen)
                : secret;
            return autobahn.auth_cra.sign(key, challengeExtra.challenge);
        },
    });
    const pair = autobahn.nacl.sign.keyPair.fromSeed(Buffer.from(seedHex, 'hex'));
    const cryptosignAuth = (id) => ({
        authmethods: ['cryptosign'], authid: id,
        authextra: { pubkey: autobahn.auth_cryptosign.public_key(pair) },
        onchallenge: (session, method, challengeExtra) => autobahn.auth_cryptosign.sign_challenge(pair, challengeExtra),
    });
    const cases = [
        ['ticket', ticketAuth(ticketId, ticket)],
        ['wampcra', craAuth(craId, craSecret)],
        ['wampcra salted', craAuth(saltedId, saltedSecret)],
        ['cryptosign', cryptosignAuth(cryptosignId)],
        ['wrong ticket', ticketAuth(ticketId, ticket + 'x')],
        ['wrong wampcra secret', craAuth(craId, craSecret + 'x')],
        ['unknown authid', ticketAuth('nobody', ticket)],
    ];
    for (const [label, options] of cases) {
        let joined;
        try {
            joined = await join(options);
        } catch (refused) {
            out('refused', { label, reason: refused.reason, error: refused.closeReason });
            continue;
        }
        const { details } = joined;
        const me = await outcome(joined.session.call('wamp.session.get', [joined.session.id]));
        out('joined', {
            label, authid: details.authid, authrole: details.authrole, authmethod: details.authmethod,
            meta_authid: me.result && me.result.authid,
        });
        await joined.leave();
    }
};

// The Python client on the other side (the test drives it): call each other's procedures and
// receive each other's events. Its own calls and publication first, then 'ready': the Python side
// calls and publishes; it leaves after the Python side's 'com.mixed.py.done' event.
SCENARIOS.mixed = async () => {
    const me = await join();
    const s = me.session;
    const gotPy = [];
    const done = signal();
    await s.register('com.mixed.js.add', (args, kwargs, details) => {
        out('invoked', { args, kwargs, caller_known: typeof details.caller === 'number' });
        return new autobahn.Result([args[0] + args[1]], { by: 'js' });
    });
    await s.register('com.mixed.js.fail', () => {
        throw new autobahn.Error('com.mixed.js.failed', ['js says no'], { code: 42 });
    });
    await s.register('com.mixed.js.bytes', (args) => {
        out('bytes in', describeBytes(args[0]));
        return Buffer.concat([Buffer.from(args[0]), Buffer.from([0xfe])]);
    });
    await s.subscribe('com.mixed.py.', (args, kwargs, details) => {
        if (details.topic === 'com.mixed.py.done') done.resolve();
        else gotPy.push({ topic: details.topic, args, kwargs });
    }, { match: 'prefix' });
    out('call py', await outcome(s.call('com.mixed.py.add', [20, 22], { unit: 'x' })));
    out('call py error', await outcome(s.call('com.mixed.py.fail', [1])));
    if (serializerName !== 'json') {
        const result = await outcome(s.call('com.mixed.py.bytes', [Buffer.from([0, 1, 255])]));
        out('call py bytes', describeBytes(result.result));
    }
    const publication = await s.publish('com.mixed.js.event', ['from js'], { n: 1 }, { acknowledge: true });
    out('published', { acknowledged: Number.isSafeInteger(publication.id) });
    out('ready', {}); // the Python side's turn
    await done.promise;
    out('events from py', { events: gotPy });
    await me.leave();
    out('left', {});
};

async function main() {
    const run = SCENARIOS[scenario];
    if (!run) throw new Error(`unknown scenario ${scenario}`);
    await run();
}

const deadline = setTimeout(() => {
    console.error(`peer.js ${scenario}: timed out`);
    process.exit(1);
}, 20000);

main().then(
    () => { clearTimeout(deadline); },
    (err) => {
        console.error(`peer.js ${scenario} failed:`, err && err.stack ? err.stack : JSON.stringify(err));
        process.exit(1);
    },
);
