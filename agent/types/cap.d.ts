/** The part of the `cap` package (libpcap binding) that eta-sensor uses. */
declare module 'cap' {
  import type { EventEmitter } from 'node:events';
  export class Cap extends EventEmitter {
    /** Opens a live capture; returns the link type name (ETHERNET, NULL, LINKTYPE_LINUX_SLL, RAW). */
    open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
    close(): boolean;
    on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): this;
    static deviceList(): Array<{ name: string; description?: string; addresses: Array<{ addr: string }> }>;
    static findDevice(ip?: string): string | undefined;
  }
  const _default: { Cap: typeof Cap };
  export default _default;
}
