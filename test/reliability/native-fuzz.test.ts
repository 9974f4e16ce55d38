/**
 * The C addons' parsers under AddressSanitizer and UBSan: scripts/fuzz-native's libFuzzer
 * harnesses are built and each runs a bounded number of inputs, the frame harness from the
 * project's sample capture and the RFC 9001 / 9369 client Initials. Any read past a packet, an
 * overflow or undefined behaviour ends the run with a sanitizer report, and the test fails.
 * A long run is scripts/fuzz-native/README.md's; this one keeps the harnesses building and
 * catches what a change breaks on the common paths. Skipped without clang's libFuzzer.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eth, ipv4, udp } from '../helpers/packets.js';
import { hex } from '../meta/builder.js';
import { RFC9001, RFC9369 } from '../meta/quic-vectors.js';

const HERE = new URL('../../../scripts/fuzz-native/', import.meta.url).pathname;
const SAMPLE = new URL('../../../samples/lo-sessions.pcap', import.meta.url).pathname;

/** build.sh's compiler, whatever CC says for node-gyp (found by review: CC=gcc failed the test). */
const ENV = { ...process.env, CC: 'clang' };
const NODE_INC = process.env['NODE_INC'] ?? join(process.execPath, '../../include/node');

/** Whether clang builds a libFuzzer program here with what build.sh needs: node's headers and libcrypto. */
function fuzzerToolchain(dir: string): string | false {
  const src = join(dir, 'probe.c');
  writeFileSync(src, '#include <node_api.h>\n#include <openssl/evp.h>\n'
    + 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return EVP_MD_size(EVP_sha256()) == 32 ? 0 : 1; }\n');
  const r = spawnSync('clang', ['-fsanitize=fuzzer,address,undefined', `-I${NODE_INC}`, '-o', join(dir, 'probe'), src, '-lcrypto'], { encoding: 'utf8' });
  if (r.error) return 'clang is not installed (apt-get install clang libclang-rt-dev libssl-dev)';
  return r.status === 0 ? false : `clang cannot build a libFuzzer harness here (apt-get install libclang-rt-dev libssl-dev; node's headers in ${NODE_INC}): ${r.stderr.split('\n')[0]}`;
}

/** The sample's Ethernet frames (classic pcap, little-endian, as record-sample writes it). */
function sampleFrames(): Buffer[] {
  const b = readFileSync(SAMPLE);
  const frames: Buffer[] = [];
  for (let at = 24; at + 16 <= b.length;) {
    const len = b.readUInt32LE(at + 8);
    frames.push(b.subarray(at + 16, at + 16 + len));
    at += 16 + len;
  }
  return frames;
}

/** fuzz_frame's input (its header comment): a configuration byte, then { ctl, u16le length, frame }; ctl 8 is Ethernet, 1 ms later. */
function frameInput(cfg: number, frames: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([cfg])];
  for (const f of frames) {
    const head = Buffer.alloc(3);
    head[0] = 8;
    head.writeUInt16LE(f.length, 1);
    parts.push(head, f);
  }
  return Buffer.concat(parts);
}

const RUNS: Record<string, number> = { fuzz_frame: 2000, fuzz_quic: 20_000, fuzz_hello: 50_000, fuzz_gquic: 50_000, fuzz_cells: 50_000, fuzz_rowfmt: 50_000, fuzz_label: 2000 };

const dir = mkdtempSync(join(tmpdir(), 'eta-native-fuzz-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const missing = fuzzerToolchain(dir);

t.test('the C parsers under ASan and UBSan, a bounded libFuzzer run each', { skip: missing, timeout: 300_000 }, async (t) => {
  const bin = join(dir, 'bin');
  const built = spawnSync('sh', [join(HERE, 'build.sh'), bin], { encoding: 'utf8', env: ENV });
  t.equal(built.status, 0, `the harnesses build${built.status === 0 ? '' : `: ${built.stderr.slice(-2000)}`}`);
  if (built.status !== 0) return;
  const quic = [RFC9001.clientPacket, RFC9369.clientPacket].map((p) =>
    eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, udp(50_000, 443, hex(p)))));
  const frames = sampleFrames();
  t.ok(frames.length > 100, `${frames.length} frames from the sample capture`);
  for (const [name, runs] of Object.entries(RUNS)) {
    const corpus = join(dir, `corpus-${name}`);
    mkdirSync(corpus);
    if (name === 'fuzz_frame') {
      writeFileSync(join(corpus, 'sample'), frameInput(0, [...frames, ...quic]));
      writeFileSync(join(corpus, 'sample-4-slots'), frameInput(0x80, frames)); // evictions
    }
    // -seed fixed: the same inputs every run, so a failure repeats. -timeout: an input that never
    // ends (a parser's endless loop) is libFuzzer's report, not a test file blocked in spawnSync.
    const r = spawnSync(join(bin, name), [`-runs=${runs}`, '-seed=1', '-max_len=65536', '-rss_limit_mb=2048', '-max_total_time=60', '-timeout=10', corpus],
      { encoding: 'utf8', cwd: dir, timeout: 120_000 });
    const report = /ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:/.exec(r.stderr);
    const why = report ? r.stderr.slice(report.index, report.index + 1500) : r.stderr.slice(-1500);
    t.equal(r.status, 0, `${name}: ${runs.toLocaleString('en-US')} inputs${r.status === 0 ? '' : `\n${r.signal ? `killed (${r.signal})\n` : ''}${why}`}`);
  }
});
