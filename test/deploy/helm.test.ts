/**
 * deploy/helm/mcp-auth-gateway linted and rendered by the real helm (v4), in both modes,
 * validated against the Kubernetes schemas and the gateway pod rules, and its gateway config
 * against the gateway's own schema.
 */
import { readFileSync, rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyDirectory } from '../../src/policy/index.js';
import { checkGatewayPod, locateGatewayPod } from '../helpers/gateway-pod-rules.js';
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

  it('uses the existing Secret (no Secret rendered) under the configured key', () => {
    expect(findAll(sidecar, 'Secret')).toEqual([]);
    const pod = locateGatewayPod(sidecar);
    expect((pod.pod.volumes as Obj[]).find((v) => v.name === 'gateway-credentials')?.secret.secretName).toBe('tickets-mcp-api-key');
    expect((pod.config && (httpUpstream(pod.config).credential as { value?: string } | undefined))?.value).toBe('secret-provided-out-of-band');
    const text = find(sidecar, 'ConfigMap', 'tickets-mcp-auth-gateway-config').data['gateway.yaml'] as string;
    expect(text).toContain('${file:/var/run/secrets/mcp-auth-gateway/api-key}');
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
  it('the defaults render a valid standalone gateway without credential', async () => {
    expect(await validateManifests(defaults)).toEqual([]);
    expect(httpUpstream(configOf(defaults)!).credential).toBeUndefined();
    expect(findAll(defaults, 'Secret')).toEqual([]);
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
  ])('refuses --set %j', async (set, message) => {
    await expect(renderHelm(CHART, { set })).rejects.toThrow(message);
  });
});
