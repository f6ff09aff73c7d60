/**
 * deploy/helm/mcp-auth-gateway linted and rendered by the real helm (v4), in both modes,
 * validated against the Kubernetes schemas and the gateway pod rules, and its gateway config
 * against the gateway's own schema.
 */
import { readFileSync, rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadPolicyDirectory } from '../../src/policy/index.js';
import { checkGatewayPod, locateGatewayPod, secretFileAt } from '../helpers/gateway-pod-rules.js';
import { find, findAll, renderHelm, runHelm, validateManifests, writeConfigMapVolume, type Manifest } from '../helpers/kubernetes.js';
import { httpUpstream } from '../helpers/http-upstream.js';

const CHART = 'deploy/helm/mcp-auth-gateway';
const STANDALONE = `${CHART}/ci/standalone-values.yaml`;
const SIDECAR = `${CHART}/ci/sidecar-values.yaml`;
type Obj = Record<string, any>;

let standalone: Manifest[];
let sidecar: Manifest[];
let defaults: Manifest[];
beforeAll(async () => {
  [standalone, sidecar, defaults] = await Promise.all([
    renderHelm(CHART, { valuesFiles: [STANDALONE], namespace: 'tickets' }),
    renderHelm(CHART, { valuesFiles: [SIDECAR], namespace: 'tickets' }),
    renderHelm(CHART),
  ]);
});

const configOf = (manifests: Manifest[]) => locateGatewayPod(manifests).config;
const SECRETS_DIR = '/var/run/secrets/mcp-auth-gateway';
/** The Secrets (and their items) projected into the gateway's secrets directory. */
const secretSources = (manifests: Manifest[]) =>
  ((locateGatewayPod(manifests).pod.volumes as Obj[]).find((v) => v.name === 'gateway-credentials')?.projected.sources as Obj[]).map((source) => source.secret);

/**
 * The session binding keys as the gateway loads them, each `${file:…}` reference of the rendered
 * config, and the Secret key the pod mounts at that file (undefined when nothing is mounted there).
 */
function sessionBinding(manifests: Manifest[]) {
  const pod = locateGatewayPod(manifests);
  const raw = (parseYaml(pod.configText ?? '') as Obj | null)?.sessions?.bindingSecrets as string[] | undefined;
  const references = (raw ?? []).map((entry) => /^\$\{file:(.*)\}$/.exec(entry)?.[1] ?? entry);
  return { bindingSecrets: pod.config?.sessions.bindingSecrets, references, sources: references.map((file) => secretFileAt(manifests, pod, file)) };
}

describe('helm lint', () => {
  it.each([[STANDALONE], [SIDECAR]])('passes --strict with %s', async (values) => {
    const output = await runHelm(['lint', '--strict', `${process.cwd()}/${CHART}`, '--values', `${process.cwd()}/${values}`]);
    expect(output).toContain('0 chart(s) failed');
  });
});

describe('standalone mode', () => {
  it('is valid against the Kubernetes schemas', async () => {
    expect(await validateManifests(standalone)).toEqual([]);
  });

  it('keeps every gateway pod rule', () => {
    expect(checkGatewayPod(standalone, 'standalone')).toEqual([]);
  });

  it('points the gateway at upstream.url with a chart-made Secret, and locks the MCP server to the gateway', () => {
    const config = configOf(standalone)!;
    expect(httpUpstream(config).url).toBe('http://tickets-mcp.tickets.svc.cluster.local:3000/mcp');
    expect(httpUpstream(config).credential).toEqual({ type: 'static', header: 'Authorization', value: 'Bearer example-only-not-a-real-token' });
    expect(config.listen).toMatchObject({ host: '0.0.0.0', port: 8080, trustForwardedHeaders: true });
    expect(locateGatewayPod(standalone).upstreamContainers).toEqual([]);
    const upstreamPolicy = find(standalone, 'NetworkPolicy', 'tickets-mcp-auth-gateway-upstream');
    expect(upstreamPolicy.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'tickets-mcp' });
    expect(upstreamPolicy.spec.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mcp-auth-gateway', 'app.kubernetes.io/instance': 'tickets' } } }],
        ports: [{ protocol: 'TCP', port: 3000 }],
      },
    ]);
  });

  it('binds session ids with sessions.bindingSecret.value, put in the chart\'s Secret beside the credential and mounted as a file', () => {
    const secret = find(standalone, 'Secret', 'tickets-mcp-auth-gateway-credentials');
    expect(secret.stringData).toEqual({ 'upstream-credential': 'Bearer example-only-not-a-real-token', 'session-binding-key': 'example-only-replace-with-openssl-rand-base64-32' });
    expect(sessionBinding(standalone)).toEqual({
      bindingSecrets: ['example-only-replace-with-openssl-rand-base64-32'],
      references: [`${SECRETS_DIR}/session-binding-key`],
      sources: [{ secretName: 'tickets-mcp-auth-gateway-credentials', key: 'session-binding-key', value: 'example-only-replace-with-openssl-rand-base64-32' }],
    });
  });

  it('probes and scrapes the admin port, admits it from monitoring only, and keeps it off the Service', () => {
    const pod = locateGatewayPod(standalone);
    expect(pod.gateway.ports.map((p: Obj) => [p.name, p.containerPort])).toEqual([['http', 8080], ['admin', 9090]]);
    expect([pod.gateway.readinessProbe.httpGet, pod.gateway.livenessProbe.httpGet]).toEqual([
      { path: '/readyz', port: 'admin' },
      { path: '/healthz', port: 'admin' },
    ]);
    expect(pod.workload.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics' });
    expect(find(standalone, 'Service').spec.ports.map((p: Obj) => p.targetPort)).toEqual(['http']);
    expect(find(standalone, 'NetworkPolicy', 'tickets-mcp-auth-gateway').spec.ingress[1]).toEqual({
      ports: [{ protocol: 'TCP', port: 9090 }],
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    });
  });

  it('routes the host of resource.url through the Ingress to the gateway', () => {
    const ingress = find(standalone, 'Ingress');
    expect(ingress.spec.rules[0].host).toBe('tickets-mcp.example.com');
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'tickets-mcp-auth-gateway', port: { name: 'http' } });
  });
});

describe('sidecar mode', () => {
  it('is valid against the Kubernetes schemas', async () => {
    expect(await validateManifests(sidecar)).toEqual([]);
  });

  it('keeps every gateway pod rule', () => {
    expect(checkGatewayPod(sidecar, 'sidecar')).toEqual([]);
  });

  it('runs the existing container verbatim, hardened where it said nothing, on loopback behind the gateway', () => {
    const pod = locateGatewayPod(sidecar);
    const [server] = pod.upstreamContainers as [Obj];
    expect(server).toMatchObject({
      name: 'tickets-mcp',
      image: 'registry.example.com/tickets-mcp:2.3.1',
      args: ['--transport', 'streamable-http'],
      lifecycle: { preStop: { sleep: { seconds: 30 } } },
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
    expect(pod.config && httpUpstream(pod.config).url).toBe('http://127.0.0.1:3000/mcp');
  });

  it('uses the existing Secrets (none rendered) under the configured keys, projected into one directory', () => {
    expect(findAll(sidecar, 'Secret')).toEqual([]);
    expect(secretSources(sidecar)).toEqual([
      { name: 'tickets-mcp-api-key', items: [{ key: 'api-key', path: 'api-key' }] },
      { name: 'tickets-mcp-session-keys', items: [{ key: 'session-binding-key', path: 'session-binding-key' }] },
    ]);
    const pod = locateGatewayPod(sidecar);
    expect((pod.config && (httpUpstream(pod.config).credential as { value?: string } | undefined))?.value).toBe('secret-provided-out-of-band');
    const text = find(sidecar, 'ConfigMap', 'tickets-mcp-auth-gateway-config').data['gateway.yaml'] as string;
    expect(text).toContain('${file:/var/run/secrets/mcp-auth-gateway/api-key}');
    expect(sessionBinding(sidecar)).toEqual({
      bindingSecrets: ['secret-provided-out-of-band'],
      references: [`${SECRETS_DIR}/session-binding-key`],
      sources: [{ secretName: 'tickets-mcp-session-keys', key: 'session-binding-key' }],
    });
  });

  it('does not start when the session binding key is not projected into the pod', () => {
    const manifests = structuredClone(sidecar) as Manifest[];
    const volume = (locateGatewayPod(manifests).pod.volumes as Obj[]).find((v) => v.name === 'gateway-credentials')!;
    volume.projected.sources = volume.projected.sources.filter((source: Obj) => source.secret.name !== 'tickets-mcp-session-keys');
    expect(locateGatewayPod(manifests).configError).toContain(`cannot read secret file ${SECRETS_DIR}/session-binding-key (ENOENT)`);
  });

  it('mounts the policies ConfigMap as a directory, without tying it to the config checksum', async () => {
    const policies = find(sidecar, 'ConfigMap', 'tickets-mcp-auth-gateway-policies');
    // The user's files replace the baseline; they are not merged with it.
    expect(Object.keys(policies.data)).toEqual(['tickets.yaml']);
    const checksum = (m: Manifest[]) => find(m, 'Deployment').spec.template.metadata.annotations['checksum/config'];
    const otherPolicies = await renderHelm(CHART, { valuesFiles: [SIDECAR], namespace: 'tickets', set: ['policies.other\\.yaml=x'] });
    const otherConfig = await renderHelm(CHART, { valuesFiles: [SIDECAR], namespace: 'tickets', set: ['config.logging.level=debug'] });
    expect(checksum(otherPolicies)).toBe(checksum(sidecar));
    expect(checksum(otherConfig)).not.toBe(checksum(sidecar));
  });
});

describe('values', () => {
  it('the defaults render a valid standalone gateway without credential or session binding keys (each process draws its own)', async () => {
    expect(await validateManifests(defaults)).toEqual([]);
    expect(httpUpstream(configOf(defaults)!).credential).toBeUndefined();
    expect(configOf(defaults)!.sessions).toEqual({ bind: true, bindingSecrets: [] });
    expect(findAll(defaults, 'Secret')).toEqual([]);
    expect((locateGatewayPod(defaults).pod.volumes as Obj[]).map((v) => v.name)).not.toContain('gateway-credentials');
  });

  it('rotates session binding keys: the new one signs, the previous ones still verify, and the config change rolls the pods', async () => {
    const rotated = await renderHelm(CHART, { valuesFiles: [STANDALONE], namespace: 'tickets', set: ['sessions.bindingSecret.value=new-key', 'sessions.bindingSecret.previousValues={old-key}'] });
    expect(await validateManifests(rotated)).toEqual([]);
    expect(checkGatewayPod(rotated, 'standalone')).toEqual([]);
    expect(sessionBinding(rotated)).toMatchObject({
      bindingSecrets: ['new-key', 'old-key'],
      references: [`${SECRETS_DIR}/session-binding-key`, `${SECRETS_DIR}/session-binding-key-previous-1`],
    });
    const checksum = (m: Manifest[]) => find(m, 'Deployment').spec.template.metadata.annotations['checksum/config'];
    expect(checksum(rotated)).not.toBe(checksum(standalone));

    const existing = await renderHelm(CHART, { valuesFiles: [SIDECAR], set: ['sessions.bindingSecret.existingSecretPreviousKeys={old}'] });
    expect(secretSources(existing)[1]).toEqual({ name: 'tickets-mcp-session-keys', items: [{ key: 'session-binding-key', path: 'session-binding-key' }, { key: 'old', path: 'old' }] });
    expect(sessionBinding(existing).references).toEqual([`${SECRETS_DIR}/session-binding-key`, `${SECRETS_DIR}/old`]);
  });

  it('the defaults keep every gateway pod rule: the baseline policy, the admin port, audit on stdout', () => {
    expect(checkGatewayPod(defaults, 'standalone')).toEqual([]);
    const pod = locateGatewayPod(defaults);
    expect(pod.config?.policy?.directory).toBe('/etc/mcp-auth-gateway/policies');
    expect(pod.config?.metrics).toMatchObject({ port: 9090, host: '0.0.0.0', enabled: true });
    expect(pod.config?.audit).toMatchObject({ enabled: true, sink: 'stdout' });
    expect(find(defaults, 'Service').spec.ports.map((p: Obj) => p.targetPort)).toEqual(['http']);
  });

  it('ships the baseline (a copy of policies/baseline), which the gateway loads from the ConfigMap volume', async () => {
    const policies = find(defaults, 'ConfigMap', 'tickets-mcp-auth-gateway-policies');
    expect(Object.keys(policies.data)).toEqual(['baseline.yaml']);
    expect(policies.data['baseline.yaml']).toBe(readFileSync(`${process.cwd()}/${CHART}/files/policies/baseline.yaml`, 'utf8'));
    const volume = writeConfigMapVolume(policies);
    try {
      const { policy, findings } = await loadPolicyDirectory(volume);
      expect(findings).toEqual([]);
      expect(policy.challengeScopes).toEqual(['mcp:tools']);
    } finally {
      rmSync(volume, { recursive: true, force: true });
    }
  });

  it('policy.enabled=false leaves policy.directory out (every valid token may call everything), and the config still loads', async () => {
    const manifests = await renderHelm(CHART, { set: ['policy.enabled=false'] });
    const pod = locateGatewayPod(manifests);
    expect(pod.configError).toBeUndefined();
    expect(pod.config?.policy).toBeUndefined();
    expect(checkGatewayPod(manifests, 'standalone').map((finding) => finding.rule)).toEqual(['policies-load']);
  });

  it.each([
    [['mode=bogus'], /value must be one of 'standalone', 'sidecar'/],
    [['mode=sidecar'], /mode sidecar needs sidecar.container/],
    [['upstream.credential.value=a', 'upstream.credential.existingSecret=b'], /not both/],
    [['upstream.networkPolicy.enabled=true'], /upstream.networkPolicy.podSelector/],
    [['config.authorizationServers=null'], /authorizationServers/],
    [['adminPort=8080'], /adminPort must differ from containerPort/],
    [['policies.README\\.md=x'], /does not match pattern/],
    [['sessions.bindingSecret.value=a', 'sessions.bindingSecret.existingSecret=b'], /not both/],
    [['sessions.bindingSecret.previousValues={a}'], /previousValues needs sessions.bindingSecret.value/],
    [['sessions.bindingSecret.existingSecretPreviousKeys={a}'], /existingSecretPreviousKeys needs sessions.bindingSecret.existingSecret/],
    [['upstream.credential.value=a', 'sessions.bindingSecret.value=b', 'sessions.bindingSecret.existingSecretKey=upstream-credential'], /distinct names/],
  ])('refuses --set %j', async (set, message) => {
    await expect(renderHelm(CHART, { set })).rejects.toThrow(message);
  });
});
