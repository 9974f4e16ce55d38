/**
 * The small files beside the segments: the consumer position and the directory lock,
 * plus the segment scan used at recovery.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StartupError } from '../errors.js';
import { crc32 } from './crc32.js';
import { HEADER_BYTES, decodeFrame } from './disk-buffer-format.js';

const POSITION_MAGIC = 0x50415445; // "ETAP" little-endian

/**
 * The buffer's files are opened without following a link, and made 0600 (the records hold
 * addresses and server names). Its folder may be writable by the service's user while root runs
 * the daemon or a replay on it: a link planted under a segment's name (to a root file) was cut and
 * written through (found by review). r: read; a: append, made if missing; w: made anew; t: to cut.
 */
export function openInBuffer(file: string, how: 'r' | 'a' | 'w' | 't'): number {
  const c = fs.constants;
  const flags = { r: c.O_RDONLY, a: c.O_WRONLY | c.O_APPEND | c.O_CREAT, w: c.O_WRONLY | c.O_CREAT | c.O_TRUNC, t: c.O_WRONLY }[how];
  // O_NONBLOCK: a FIFO planted there would block the open, and the daemon with it (found by
  // review); it changes nothing for a regular file, the only kind kept.
  const fd = fs.openSync(file, flags | c.O_NOFOLLOW | c.O_NONBLOCK, 0o600);
  const why = foreign(fs.fstatSync(fd));
  if (why !== undefined) {
    fs.closeSync(fd);
    throw new Error(`${file} is ${why}; the buffer reads and writes only files it made: remove it`);
  }
  return fd;
}

/** Why a file under a buffer file's name is not one the buffer made (a link planted there), or undefined. */
function foreign(st: fs.Stats): string | undefined {
  return !st.isFile() ? 'not a regular file (a symbolic link?)' : st.nlink > 1 ? 'a hard link' : undefined;
}

/** Through openInBuffer: `data` written to `file` (w: as its whole content, a: at its end), its bytes read, or it cut to `size`. */
export function writeInBuffer(file: string, data: Buffer | string, how: 'w' | 'a' = 'w'): void {
  const fd = openInBuffer(file, how);
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

export function readInBuffer(file: string): Buffer {
  const fd = openInBuffer(file, 'r');
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function cutInBuffer(file: string, size: number): void {
  const fd = openInBuffer(file, 't');
  try {
    fs.ftruncateSync(fd, size);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuses, at the start, a folder whose buffer files are not its own (see openInBuffer), also the
 * position and gaps files, whose readers take a file they cannot open for a missing one.
 */
export function checkBufferFiles(dir: string, isBufferFile: (name: string) => boolean): void {
  for (const name of fs.readdirSync(dir)) {
    const why = isBufferFile(name) ? foreign(fs.lstatSync(path.join(dir, name))) : undefined;
    if (why !== undefined) throw new Error(`${name} there is ${why}; the buffer reads and writes only files it made: remove it`);
  }
}

/**
 * Replaces the position file atomically (write a temporary file, rename over). It is not
 * fsynced: a stale or lost position only makes already-acknowledged records be sent again
 * (at-least-once), it never loses one, so it can be written cheaply every second.
 */
export function writePosition(dir: string, seq: number): void {
  const buf = Buffer.alloc(16);
  buf.writeUInt32LE(POSITION_MAGIC, 0);
  buf.writeDoubleLE(seq, 8);
  buf.writeUInt32LE(crc32(buf.subarray(8, 16)), 4);
  const tmp = path.join(dir, 'position.tmp');
  writeInBuffer(tmp, buf);
  fs.renameSync(tmp, path.join(dir, 'position'));
}

/** The saved position; 'missing' on a new buffer, 'corrupt' if unreadable (then everything is resent). */
export function readPosition(dir: string): number | 'missing' | 'corrupt' {
  let buf: Buffer;
  try {
    buf = readInBuffer(path.join(dir, 'position'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return 'corrupt';
  }
  if (buf.length !== 16 || buf.readUInt32LE(0) !== POSITION_MAGIC) return 'corrupt';
  if (crc32(buf.subarray(8, 16)) !== buf.readUInt32LE(4)) return 'corrupt';
  const seq = buf.readDoubleLE(8);
  return Number.isSafeInteger(seq) && seq >= 0 ? seq : 'corrupt';
}

/**
 * The gaps in the records' numbers already counted as lost, [from, to): where damaged records
 * were cut (disk-buffer-recover.ts at startup, disk-buffer-salvage.ts while running). Recovery
 * counts any other gap between two segments as records lost with a segment file gone (found by
 * review: a deleted segment's 7,967 records went without a word). Unreadable: none known (a gap
 * may then be counted twice, never not at all).
 */
export function readGaps(dir: string): Array<[number, number]> {
  try {
    const v: unknown = JSON.parse(readInBuffer(path.join(dir, 'gaps')).toString('utf8'));
    if (Array.isArray(v) && v.every((g) => Array.isArray(g) && g.length === 2 && g.every((x) => Number.isSafeInteger(x)))) return v as Array<[number, number]>;
  } catch {
    // missing or damaged: none known
  }
  return [];
}

/** Replaces the gaps file as writePosition replaces the position (removed when there is none). */
export function writeGaps(dir: string, gaps: ReadonlyArray<readonly [number, number]>): void {
  if (gaps.length === 0) {
    fs.rmSync(path.join(dir, 'gaps'), { force: true });
    return;
  }
  const tmp = path.join(dir, 'gaps.tmp');
  writeInBuffer(tmp, JSON.stringify(gaps));
  fs.renameSync(tmp, path.join(dir, 'gaps'));
}

/** Buffer directories this process holds the lock of. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This boot's id (Linux), '' where the system has none. */
function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** When process `pid` started, in clock ticks since boot (/proc/PID/stat field 22); '' when unknown. */
function startTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** When this machine booted, in seconds since the epoch (from the uptime, which needs no /proc). */
function bootTime(): number {
  return Math.round(Date.now() / 1000 - os.uptime());
}

/**
 * What the lock file holds: the owner's PID, this boot's id, the owner's start time and the boot
 * time; '-' for what cannot be read (systemd's ProcSubset=pid hides /proc/sys, ProtectProc=invisible
 * other users' /proc/PID: found by review, the empty fields shifted the others).
 */
function lockText(): string {
  return `${process.pid} ${bootId() || '-'} ${startTime(process.pid) || '-'} ${bootTime()}\n`;
}

/** Boot times further apart than this are two boots (the clock may be stepped after a boot). */
const BOOT_SLACK_S = 120;

/**
 * Whether the owner a lock file names still runs. A lock left by a crash, kill -9 or power loss
 * names a PID that, after a reboot, often belongs to another process (and kill(pid, 0) says EPERM
 * for one of another user): the daemon then never started again (found by review). So the boot
 * (id, else time) and the owner's start time, where both sides know them, must match too.
 */
function ownerRuns(text: string): { pid: number; runs: boolean } {
  const [pidText, boot = '-', start = '-', booted = '-'] = text.trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return { pid, runs: false };
  const bootNow = bootId();
  if (boot !== '-' && bootNow !== '' && boot !== bootNow) return { pid, runs: false };
  if (booted !== '-' && Math.abs(Number(booted) - bootTime()) > BOOT_SLACK_S) return { pid, runs: false };
  const startNow = start === '-' ? '' : startTime(pid);
  if (startNow !== '' && startNow !== start) return { pid, runs: false };
  return { pid, runs: true };
}

/**
 * Takes the directory for this process. Two agents appending to one buffer would corrupt
 * it, so a live owner is a startup error; a lock left by a dead process (kill -9) is taken over.
 */
export function lockDir(dir: string): void {
  const file = path.join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, lockText(), { flag: 'wx' });
      held.add(path.resolve(dir));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw unusable(dir, err);
    }
    const { pid, runs } = ownerRuns(fs.readFileSync(file, 'utf8'));
    // Our own PID on a lock this process does not hold: a previous agent that had the same PID (PID 1
    // in a container, or a reboot after a crash) died holding it.
    const ours = pid === process.pid && !held.has(path.resolve(dir));
    if (runs && !ours) {
      throw new StartupError('E_PUBLISH', `publish buffer directory ${dir} is in use by process ${pid}`,
        `run one agent per buffer directory, or set publish.buffer.dir to a directory of its own; if no agent runs, remove ${path.join(dir, 'lock')}`);
    }
    fs.rmSync(file, { force: true });
  }
  throw unusable(dir, new Error('could not take the lock file'));
}

export function unlockDir(dir: string): void {
  fs.rmSync(path.join(dir, 'lock'), { force: true });
  held.delete(path.resolve(dir));
}

export function unusable(dir: string, err: unknown): StartupError {
  const why = err instanceof Error ? err.message : String(err);
  return new StartupError('E_PUBLISH', `cannot use publish buffer directory ${dir}: ${why}`,
    'create it writable for the agent\'s user (systemd: StateDirectory=eta-sensor), or set publish.buffer.dir',
    { cause: err });
}

export interface SegmentScan {
  /** Valid records from the start. */
  readonly count: number;
  /** Bytes up to the end of the last valid record. */
  readonly validBytes: number;
  /** File size; more than validBytes when the tail is torn or corrupt. */
  readonly fileBytes: number;
  /** Byte offset of record number `target` (0-based), if asked and present. */
  readonly targetOffset: number | undefined;
}

const SCAN_CHUNK = 1024 * 1024;

/** Reads a segment from the start, verifying every frame, and stops at the first bad or partial one. */
export function scanSegment(file: string, target?: number): SegmentScan {
  const fd = openInBuffer(file, 'r');
  try {
    const fileBytes = fs.fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(SCAN_CHUNK);
    let count = 0;
    let pos = 0; // file offset of the next frame
    let targetOffset: number | undefined;
    while (pos < fileBytes) {
      const want = Math.min(buf.length, fileBytes - pos);
      const got = readFully(fd, buf, want, pos);
      let at = 0;
      for (;;) {
        if (count === target) targetOffset = pos + at;
        const f = decodeFrame(buf, at, got);
        if (f.kind === 'ok') {
          at += HEADER_BYTES + f.length;
          count++;
          continue;
        }
        if (f.kind === 'bad') return { count, validBytes: pos + at, fileBytes, targetOffset };
        if (pos + at + f.need > fileBytes) return { count, validBytes: pos + at, fileBytes, targetOffset };
        if (f.need > buf.length) buf = Buffer.allocUnsafe(f.need);
        break;
      }
      if (at === 0 && got === 0) break;
      pos += at;
    }
    if (count === target) targetOffset = pos;
    return { count, validBytes: pos, fileBytes, targetOffset };
  } finally {
    fs.closeSync(fd);
  }
}

/** pread until `want` bytes or end of file; returns the bytes read. */
export function readFully(fd: number, buf: Buffer, want: number, position: number): number {
  let got = 0;
  while (got < want) {
    const n = fs.readSync(fd, buf, got, want - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
