// Article 001's 240-second arithmetic, redone with the TIME-WAIT length and port range this kernel really has.
import { A001, all, atLeast, atMost, because, between, churn, defineLab, fig, every, filterSockets, int, is, listenIn, need, portOf, twoHosts } from '../harness/index.ts';

const LOW = 40000;
/** the article's example: closes a second, and the TIME-WAIT length its figures rest on */
const RATE = 1000;
const ARTICLE_S = 240;
/** TIME-WAIT length from the freshest socket's ss timer: ss prints whole seconds above 10 s, so round up */
const lengthS = (timerMs?: number) => (timerMs === undefined ? undefined : timerMs >= 10_000 ? Math.floor(timerMs / 1000) + 1 : timerMs / 1000);

export default defineLab({
  title: "Article 001's 240 s arithmetic redone with the TIME-WAIT length and port range measured here",
  setup:
    'Two hosts (client and server namespaces joined by veth). The client makes N short connections that the server ' +
    'closes first: ss on the server counts the TIME-WAIT sockets left and reads their timers (the TIME-WAIT length). ' +
    'Then the client, standing for a load balancer (one source address), gets a narrow ip_local_port_range and makes ' +
    "many more server-closed connections than it has ports, so each port meets the server's TIME-WAIT of its previous " +
    'connection; last it closes first itself, on another server port, until connect() fails. The article\'s figures ' +
    "are recomputed from the measured length, the namespace's real port range and its tcp_max_tw_buckets.",
  claims: {
    'server-pile-240k': [A001, 'A server that itself closes 1000 connections a second piles up 240 s x 1000 = 240,000 TIME_WAIT records, and it can keep them all.'],
    'lb-port-blocked-240s': [A001, "Once a load balancer's source port is in the server's TIME_WAIT it cannot be used to connect to that server for 240 s, so with its 60,000-odd ports the load balancer can make only about 300 connections (a second) to that server."],
  },
  options: {
    n: int(100, 20000, 1000, 'server-closed connections from the full port range (1000: one second at the article\'s rate)', 'connections'),
    ports: int(2, 200, 16, "the load balancer's narrowed ip_local_port_range", 'ports'),
    rounds: int(2, 100, 20, 'connections per load-balancer port', 'connections'),
  },
  async run(ctx, o) {
    const { client, server, serverAddr } = await twoHosts(ctx);
    const [lo, hi] = client.readSysctl('net.ipv4.ip_local_port_range').split(' ').map(Number);
    const maxTwBuckets = Number(server.readSysctl('net.ipv4.tcp_max_tw_buckets'));
    const open = async () => { const l = await listenIn(server, { host: '0.0.0.0', port: ctx.port(), reuseaddr: true }); ctx.defer(() => l.close()); return l; };
    const timeWait = async (label: string, port: number) => filterSockets((await ctx.snapshot(label, { host: server.host, focus: { localPort: port, state: 'TIME-WAIT' } })).sockets, { localPort: port, state: 'TIME-WAIT' });
    const timers = (xs: { timer?: { remainingMs?: number } }[]): { maxTimerMs?: number; minTimerMs?: number } => { const t = xs.flatMap((s) => s.timer?.remainingMs ?? []); return t.length ? { maxTimerMs: Math.max(...t), minTimerMs: Math.min(...t) } : {}; };
    const failed = (r: { failure?: string }) => (r.failure ? { failure: r.failure } : {});
    const perPort = (ports: number[]) => { const uses = new Map<number, number>(); for (const p of ports) uses.set(p, (uses.get(p) ?? 0) + 1); return Math.max(0, ...uses.values()); };
    ctx.step(`${o.n} connections from the client's full port range (${lo}-${hi}), each closed first by the server`);
    const a = await open();
    const piled = await churn(a, o.n, { closer: 'server', from: client, host: serverAddr, signal: ctx.signal });
    const pileTw = await timeWait('server: after the server-closed connections', a.attempt.port);
    await client.sysctl('net.ipv4.ip_local_port_range', `${LOW} ${LOW + o.ports - 1}`);
    ctx.step(`the client (a load balancer) with ${o.ports} ports makes ${o.ports * o.rounds} connections the server closes first`);
    const b = await open();
    const lb = await churn(b, o.ports * o.rounds, { closer: 'server', from: client, host: serverAddr, untilConnectFails: true, signal: ctx.signal });
    const lbTw = await timeWait("server: after the load balancer's connections", b.attempt.port);
    if (lb.failure) ctx.event('errno', `connect #${lb.ports.length + 1}: ${lb.failure}`, { result: lb.failure }, client.host);
    ctx.step('the load balancer closes first instead (TIME-WAIT on its own side), toward another server port, until connect() fails');
    const own = await churn(await open(), o.ports + 3, { closer: 'client', from: client, host: serverAddr, untilConnectFails: true, signal: ctx.signal });
    if (own.failure) ctx.event('errno', `connect #${own.ports.length + 1} after closing first: ${own.failure}`, { result: own.failure }, client.host);
    return {
      range: { lo, hi }, maxTwBuckets,
      pile: { n: o.n, ms: Math.round(piled.ms), distinct: new Set(piled.ports).size, serverTw: pileTw.length, ...timers(pileTw) },
      lb: { ports: o.ports, made: lb.ports.length, ...failed(lb), ms: Math.round(lb.ms), distinct: new Set(lb.ports).size, mostPerPort: perPort(lb.ports), serverTw: lbTw.length, heldOwnPorts: lbTw.every((s) => lb.ports.some((x) => x === portOf(s.peer))), ...timers(lbTw) },
      own: { made: own.ports.length, ...failed(own) },
    };
  },
  judge: ({ range, maxTwBuckets, pile: p, lb, own }) => {
    const [pLen, lbLen] = [lengthS(p?.maxTimerMs), lengthS(lb?.maxTimerMs)];
    const heap = pLen === undefined ? undefined : RATE * pLen;
    const perSecond = (n?: number, ms?: number) => (n !== undefined && ms ? Math.round((n * 1000) / ms) : '?');
    const span = range.hi - range.lo + 1;
    return {
      'server-pile-240k': because(all(
        need('the server kept TIME-WAIT for the connections it closed and ss showed their timers', !!p && p.serverTw > 0 && pLen !== undefined, `${p?.serverTw ?? 0} TIME-WAIT sockets on the server`),
        is(`TIME-WAIT sockets on the server after it closed ${fig(p?.n)} connections from ${fig(p?.distinct)} client ports (one each, none expired)`, p?.serverTw, p?.distinct ?? NaN),
        between(`TIME-WAIT records at ${RATE} closes a second: ${RATE} x ${fig(pLen, 's')}, the TIME-WAIT length measured here (ss timer ${fig(p?.minTimerMs)}-${fig(p?.maxTimerMs, 'ms')})`, heap, 0.9 * RATE * ARTICLE_S, 1.1 * RATE * ARTICLE_S),
        atLeast(`tcp_max_tw_buckets (how many TIME-WAIT sockets the namespace keeps) against that pile of ${fig(heap)}`, maxTwBuckets, heap ?? NaN),
      ), `The server closed ${p?.n} connections in ${p?.ms} ms (${perSecond(p?.n, p?.ms)} a second). The article's ${RATE * ARTICLE_S} would be ${RATE * ARTICLE_S > maxTwBuckets ? 'above' : 'within'} this namespace's tcp_max_tw_buckets (${maxTwBuckets}).`),
      'lb-port-blocked-240s': because(every(
        need("the server held TIME-WAIT for the load balancer's ports, one per port, and the churn ended within its timer", !!lb && lb.serverTw === lb.distinct && lb.heldOwnPorts && lbLen !== undefined && lb.ms < lbLen * 1000, `${lb?.serverTw ?? 0} TIME-WAIT on the server for ${lb?.distinct ?? 0} ports, churn ${lb?.ms ?? '?'} ms`),
        between('how long the server holds a load-balancer port in TIME-WAIT (freshest ss timer, rounded up)', lbLen, ARTICLE_S - 5, ARTICLE_S + 5, 's'),
        atMost(`connections from one load-balancer port while the server held it in TIME-WAIT (${lb?.made} connections through ${lb?.distinct} ports in ${lb?.ms} ms${lb?.failure ? `, then ${lb.failure}` : ''})`, lb?.mostPerPort, 1),
        atMost(`connections made to the server within one TIME-WAIT length (the arithmetic's ceiling: ${fig(lb?.ports)} ports per ${fig(lbLen, 's')})`, lb?.made, lb?.ports ?? NaN),
      ), `The article's ceiling for this namespace's real range (${range.lo}-${range.hi}, ${span} ports): ${span} / ${ARTICLE_S} s = ${Math.round(span / ARTICLE_S)} a second; with the measured ${lbLen ?? '?'} s: ${lbLen ? Math.round(span / lbLen) : '?'} a second; the load balancer made ${perSecond(lb?.made, lb?.ms)} a second from ${lb?.ports} ports. When it closed first instead (TIME-WAIT on its own side), connect() ${own?.failure ? `failed with ${own.failure} after ${own.made} connections` : `never failed (${own?.made} connections)`}.`),
    };
  },
  tables: ({ range, maxTwBuckets, pile, lb, own }) => [{
    title: 'The measured figures the arithmetic is redone with',
    columns: ['what', 'measured'],
    rows: [
      ["the namespace's ip_local_port_range", `${range.lo}-${range.hi} (${range.hi - range.lo + 1} ports)`],
      ['tcp_max_tw_buckets', String(maxTwBuckets)],
      [`server-closed connections (${pile.n})`, `${pile.serverTw} TIME-WAIT on the server from ${pile.distinct} client ports in ${pile.ms} ms; ss timer ${fig(pile.minTimerMs)}-${fig(pile.maxTimerMs, 'ms')}`],
      [`load balancer with ${lb.ports} ports`, `${lb.made} connections in ${lb.ms} ms, up to ${lb.mostPerPort} per port${lb.failure ? `, then ${lb.failure}` : ''}; the server holds ${lb.serverTw} TIME-WAIT (ss timer ${fig(lb.minTimerMs)}-${fig(lb.maxTimerMs, 'ms')})`],
      ['load balancer closing first', `${own.made} connections, then ${own.failure ?? 'no failure'}`],
    ],
  }],
});
