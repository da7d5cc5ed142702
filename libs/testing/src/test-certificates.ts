import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface TestCertificates {
  /** The folder holding every file below; remove() deletes it. */
  readonly dir: string;
  readonly caFile: string;
  /** PEM of the CA certificate, for a client's `ca`. */
  readonly ca: string;
  /** Server certificate signed by the CA, valid for IP:127.0.0.1 and DNS:localhost. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** Client certificate signed by the CA (extendedKeyUsage clientAuth), for mutual TLS. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly clientCert: string;
  readonly clientKey: string;
  remove(): Promise<void>;
}

/**
 * A fresh CA with a server and a client certificate, made with the openssl CLI in a temporary
 * folder: nothing is committed, and every call makes a CA no other call trusts (which is how a
 * test gets a "wrong CA"). EC P-256 keys, one day of validity: quick to make, enough for a run.
 */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'memshop-tls-'));
  const file = (name: string): string => path.join(dir, name);
  const openssl = (args: string[]) => execFileAsync('openssl', args, { cwd: dir });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  try {
    await openssl([
      'req',
      '-x509',
      ...newKey,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
      '-days',
      '1',
      '-subj',
      '/CN=memshop test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const issue = async (name: string, commonName: string, extensions: string): Promise<void> => {
      await openssl([
        'req',
        ...newKey,
        '-keyout',
        file(`${name}.key`),
        '-out',
        file(`${name}.csr`),
        '-subj',
        `/CN=${commonName}`,
      ]);
      await fs.writeFile(file(`${name}.ext`), extensions);
      await openssl([
        'x509',
        '-req',
        '-in',
        file(`${name}.csr`),
        '-CA',
        file('ca.crt'),
        '-CAkey',
        file('ca.key'),
        '-CAcreateserial',
        '-out',
        file(`${name}.crt`),
        '-days',
        '1',
        '-extfile',
        file(`${name}.ext`),
      ]);
    };
    await issue(
      'server',
      'localhost',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    );
    await issue('client', 'memshop test client', 'extendedKeyUsage=clientAuth\n');
    // memcached drops to `nobody` when started as root and reads its certificate and key after
    // that; these are throwaway test keys, so the folder is world-readable.
    await fs.chmod(dir, 0o755);
    for (const name of await fs.readdir(dir)) await fs.chmod(file(name), 0o644);
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw new Error(`making test certificates with the openssl CLI failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    dir,
    caFile: file('ca.crt'),
    ca: await fs.readFile(file('ca.crt'), 'utf8'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    clientCert: await fs.readFile(file('client.crt'), 'utf8'),
    clientKey: await fs.readFile(file('client.key'), 'utf8'),
    remove: () => fs.rm(dir, { recursive: true, force: true }),
  };
}
