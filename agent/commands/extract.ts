/** `eta-sensor extract`: a capture in, one row of features per flow out. */
import { FileSource } from '../capture/file-source.js';
import { loadConfig } from '../config.js';
import { usageError } from '../errors.js';
import { csvHeader, type RowFormat } from '../features/format.js';
import { OutputClosed, RowWriter } from '../features/row-writer.js';
import { meterSource } from '../flows/drive.js';
import { FlowMeter } from '../flows/meter.js';
import { meterOptions } from '../flows/extract-file.js';
import { refuseInputAsOutput } from '../lib/output-file.js';
import { compact, Progress } from '../lib/progress.js';
import { optBool, optOutput, optString, optStrings, type Command } from './command.js';
import { DAMAGED_CAPTURE_FIX, summaryText } from './summary.js';

export const command: Command = {
  name: 'extract',
  summary: 'turn a capture into one row of features per flow (CSV or JSONL)',
  usage: 'eta-sensor extract <capture.pcap|capture.pcapng|-> [-o FILE] [--format csv|jsonl] [-c FILE] [--set KEY=VALUE]',
  description: `
Reads a pcap or pcapng capture (or standard input with -), assembles
bidirectional flows and writes one row per flow: identity columns first
(src_ip, src_port, dst_ip, dst_port, proto, vlan, first_ts, last_ts,
end_reason), then handshake metadata (sni, alpn, tls_version, ja4), then the
features listed by \`eta-sensor features\`.

A damaged or truncated capture: the flows read before the damage are written,
the error names the file and byte offset, and the exit code is 1.

Examples:
  eta-sensor extract trace.pcapng -o flows.csv
  eta-sensor extract trace.pcap --format jsonl --set flows.idle_timeout=30
  tcpdump -i eth0 -w - | eta-sensor extract - -o flows.csv`,
  positionals: [1, 1],
  options: {
    output: { type: 'string', short: 'o', arg: 'FILE', doc: 'write rows to FILE; without -o, or with -o -, they go to standard output' },
    format: { type: 'string', arg: 'csv|jsonl', doc: 'row format (default: jsonl if FILE ends in .jsonl, else csv)' },
    config: { type: 'string', short: 'c', arg: 'FILE', doc: 'read flow settings from this YAML configuration' },
    set: { type: 'string', multiple: true, arg: 'KEY=VALUE', doc: 'override one option, e.g. flows.idle_timeout=30' },
    summary: { type: 'string', arg: 'text|json|none', doc: 'end-of-run summary on standard error (default: text)' },
    quiet: { type: 'boolean', short: 'q', doc: 'no progress and no summary on standard error (--summary none), as replay -q' },
  },
  async run(args, io) {
    const input = args.positionals[0]!;
    const output = optOutput(args);
    const format = (optString(args, 'format') ?? (output?.toLowerCase().endsWith('.jsonl') ? 'jsonl' : 'csv')) as RowFormat;
    if (format !== 'csv' && format !== 'jsonl') throw usageError(`--format must be csv or jsonl (got "${format}")`, 'extract');
    const summary = optBool(args, 'quiet') ? 'none' : optString(args, 'summary') ?? 'text';
    if (!['text', 'json', 'none'].includes(summary)) throw usageError(`--summary must be text, json or none (got "${summary}")`, 'extract');
    const cfg = await loadConfig(optString(args, 'config'), { sets: optStrings(args, 'set'), env: io.env });

    refuseInputAsOutput(input, output);
    const source = new FileSource(input);
    await source.open(); // a missing input is reported before the output file is created or emptied
    const writer = await RowWriter.open(output, format, format === 'csv' ? csvHeader() : '', io.signal);
    const meter = new FlowMeter({ ...meterOptions(cfg), reuseRecord: true }, (rec) => writer.add(rec));
    const progress = new Progress(io.stderr, summary !== 'none' && io.stderr.isTTY === true);
    const started = process.hrtime.bigint();
    let end;
    try {
      end = await meterSource(source, meter, async () => {
        if (progress.due()) {
          const st = meter.stats();
          progress.update(source.stats().progress, `${compact(st.frames)} packets, ${compact(st.flowsCreated)} flows`);
        }
        await writer.drain();
      }, io.signal);
      await writer.close();
    } catch (err) {
      await writer.abort();
      progress.done();
      // The reader went away (`| head`): stop as a Unix filter does, without an error.
      if (err instanceof OutputClosed) return 0;
      throw err;
    }
    progress.done();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const usage = process.resourceUsage();
    const src = source.stats();
    const stats = {
      input, ...meter.stats(), sourceSkipped: src.skipped, linkTypes: src.linkTypes, untimed: src.untimed, rows: writer.rows, seconds, end,
      maxRssKiB: usage.maxRSS, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    };
    if (summary === 'json') io.stderr.write(JSON.stringify(stats) + '\n');
    else if (summary === 'text') io.stderr.write(summaryText(stats));
    if (end.reason === 'error') {
      io.stderr.write(`eta-sensor extract: ${source.description}: ${end.message} (at byte offset ${end.offset}); the ${stats.rows} flows read before it were written\n  fix: ${DAMAGED_CAPTURE_FIX}\n`);
      return 1;
    }
    return end.reason === 'stopped' ? 130 : 0;
  },
};
