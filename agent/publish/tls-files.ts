/**
 * The TLS files of publish.mqtt.tls read as what they must be, at startup (and by check-config):
 * a CA file that held no certificate passed, and every connection then failed with "set
 * publish.mqtt.tls.ca to the CA that signed it", which was already set (found by review). Node
 * takes a `ca` without a single PEM certificate in it silently.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { StartupError } from '../errors.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const DER_FIX = 'a DER file converts with `openssl x509 -inform der -in FILE -out FILE.pem`';

function refuse(option: string, file: string, what: string, fix: string): StartupError {
  return new StartupError('E_PUBLISH', `publish.mqtt.tls.${option} (${file}) ${what}`, fix);
}

/** Each certificate of a PEM file; throws when there is none, or one that does not parse. */
function certificates(option: string, file: string, data: Buffer): void {
  const blocks = data.toString('latin1').match(PEM_CERT);
  if (!blocks) throw refuse(option, file, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)', `give the certificate in PEM form; ${DER_FIX}`);
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (e) {
      throw refuse(option, file, `holds a certificate that cannot be read: ${(e as Error).message}`, `give the certificate in PEM form; ${DER_FIX}`);
    }
  }
}

/** Checks the files read for `ca`, `cert` and `key` (the contents; undefined: not configured). */
export function checkTlsFiles(files: { ca?: [string, Buffer]; cert?: [string, Buffer]; key?: [string, Buffer] }): void {
  if (files.ca) certificates('ca', ...files.ca);
  if (files.cert) certificates('cert', ...files.cert);
  if (files.key) {
    try {
      createPrivateKey(files.key[1]);
    } catch (e) {
      throw refuse('key', files.key[0], `is not a private key this agent can use: ${(e as Error).message}`,
        'give the client key in PEM form, not encrypted (`openssl pkey -in KEY -out KEY.pem` asks for its passphrase once)');
    }
  }
  if (files.cert && files.key) {
    try {
      createSecureContext({ cert: files.cert[1], key: files.key[1] });
    } catch (e) {
      throw refuse('key', files.key[0], `does not go with publish.mqtt.tls.cert (${files.cert[0]}): ${(e as Error).message}`,
        'give the key the client certificate was made for');
    }
  }
}
