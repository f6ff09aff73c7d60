/**
 * deploy/kubernetes rendered by the real kustomize (kubectl kustomize), validated against the
 * Kubernetes schemas and checked for the invariants of test/helpers/gateway-pod-rules.ts.
 */
import { readFileSync, rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyDirectory, parsePolicyTests, runPolicyTests } from '../../src/policy/index.js';
import { checkGatewayPod, gatewayPodRules, locateGatewayPod, secretFileAt } from '../helpers/gateway-pod-rules.js';
import { find, renderKustomize, validateManifests, writeConfigMapVolume, type Manifest } from '../helpers/kubernetes.js';
import { httpUpstream } from '../helpers/http-upstream.js';

type Obj = Record<string, any>;
const clone = (manifests: Manifest[]) => structuredClone(manifests) as Array<Manifest & Obj>;
const ROOT = new URL('../../', import.meta.url).pathname;
const SESSION_KEY_FILE = '/var/run/secrets/mcp-auth-gateway/session-binding-key';

/**
 * The gateway's session binding keys as it loads them, and where the one file it reads comes
 * from: its `${file:…}` reference in the rendered ConfigMap, resolved through the Secret volume
 * the gateway container mounts (a missing mount or key leaves `sessions` undefined).
 */
function sessionBinding(manifests: Manifest[]) {
  const pod = locateGatewayPod(manifests);
  return {
    sessions: pod.config?.sessions,
    configError: pod.configError,
    referencesKeyFile: pod.configText?.includes(`\${file:${SESSION_KEY_FILE}}`),
    source: secretFileAt(manifests, pod, SESSION_KEY_FILE),
  };
}

/**
 * The rendered policies ConfigMap written out as the kubelet mounts it (..data symlinks) and
 * read by the gateway's own loader; then the test cases of policies/tests/<cases> run on it.
 */
async function loadMountedPolicies(manifests: Manifest[], cases: string) {
  const volume = writeConfigMapVolume(find(manifests, 'ConfigMap', 'mcp-auth-gateway-policies'));
  try {
    const { policy, findings } = await loadPolicyDirectory(volume);
    const file = `${ROOT}policies/tests/${cases}`;
    const failed = runPolicyTests(policy, parsePolicyTests(readFileSync(file, 'utf8'), file).tests).filter((result) => !result.passed);
    return { policy, findings, failed };
  } finally {
    rmSync(volume, { recursive: true, force: true });
  }
}

let base: Manifest[];
let example: Manifest[];
let existingApp: Manifest[];
beforeAll(async () => {
  [base, example, existingApp] = await Promise.all([
    renderKustomize('deploy/kubernetes/base'),
    renderKustomize('deploy/kubernetes/overlays/example'),
    renderKustomize('test/fixtures/kustomize/existing-app'),
  ]);
});

describe('deploy/kubernetes/base', () => {
  it('renders the sidecar set: Deployment, Service, ConfigMaps, Secret, NetworkPolicy, PDB, ServiceAccount', () => {
    expect(base.map((m) => m.kind).sort()).toEqual(
      ['ConfigMap', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount'].sort(),
    );
  });

  it('is valid against the Kubernetes schemas', async () => {
    expect(await validateManifests(base)).toEqual([]);
  });

  it('refuses to start until the credential and the session binding key are supplied (the base Secret is empty on purpose)', () => {
    const pod = locateGatewayPod(base);
    expect(pod.config).toBeUndefined();
    expect(pod.configError).toMatch(/upstream\.credential\.value/);
    expect(pod.configError).toMatch(/sessions\.bindingSecrets\[0\]/);
    expect(Object.keys(find(base, 'Secret').data ?? {}).sort()).toEqual(['session-binding-key', 'upstream-credential']);
  });

  it('keeps every gateway pod rule once the credential and the session binding key are supplied', () => {
    const manifests = clone(base);
    const encode = (value: string) => Buffer.from(value).toString('base64');
    find(manifests, 'Secret').data = { 'upstream-credential': encode('k'), 'session-binding-key': encode('s') };
    expect(checkGatewayPod(manifests, 'sidecar')).toEqual([]);
    expect(sessionBinding(manifests).sessions?.bindingSecrets).toEqual(['s']);
  });

  it('mounts the baseline policy, which the gateway loads from the ConfigMap volume (mcp:tools for everything)', async () => {
    const { policy, findings, failed } = await loadMountedPolicies(base, 'baseline.test.yaml');
    expect(findings).toEqual([]);
    expect(failed).toEqual([]);
    expect(policy.challengeScopes).toEqual(['mcp:tools']);
  });
});

describe('deploy/kubernetes/overlays/example', () => {
  it('is valid against the Kubernetes schemas', async () => {
    expect(await validateManifests(example)).toEqual([]);
  });

  it('keeps every gateway pod rule', () => {
    expect(checkGatewayPod(example, 'sidecar')).toEqual([]);
  });

  it('sets the namespace, the images, the config and the secret, and admits only the ingress controller', () => {
    expect(example.filter((m) => m.kind !== 'Namespace').every((m) => m.metadata.namespace === 'tickets')).toBe(true);
    const pod = locateGatewayPod(example);
    expect(pod.gateway.image).toBe('ghcr.io/mcp-auth-gateway/mcp-auth-gateway:0.1.0');
    expect(pod.upstreamContainers.map((c) => c.image)).toEqual(['registry.example.com/tickets-mcp:2.3.1']);
    expect(pod.config?.resource.url).toBe('https://tickets-mcp.example.com/mcp');
    expect((pod.config && (httpUpstream(pod.config).credential as { value?: string } | undefined))?.value).toBe('example-only-not-a-real-key');
    const policy = find(example, 'NetworkPolicy');
    expect(policy.spec.ingress[0]).toEqual(
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
    );
  });

  it('gives the gateway config a content-hashed name (a change rolls the pods) but not the hot-reloaded policies', () => {
    const names = example.filter((m) => m.kind === 'ConfigMap').map((m) => m.metadata.name);
    expect(names).toContainEqual(expect.stringMatching(/^mcp-auth-gateway-config-[a-z0-9]{10}$/));
    expect(names).toContain('mcp-auth-gateway-policies');
    const volumes = locateGatewayPod(example).pod.volumes as Obj[];
    expect(volumes.map((v) => v.configMap?.name).filter(Boolean).sort()).toEqual(names.sort());
  });

  it('enforces the example policies, loaded by the gateway from the ConfigMap volume, and audits to stdout', async () => {
    expect(Object.keys(find(example, 'ConfigMap', 'mcp-auth-gateway-policies').data).sort()).toEqual(['00-settings.yaml', '10-tickets.yaml', '20-admin.yaml']);
    const { policy, findings, failed } = await loadMountedPolicies(example, 'policy.test.yaml');
    expect(findings).toEqual([]);
    expect(failed).toEqual([]);
    expect(policy.challengeScopes).toEqual(['tickets:read']);
    const config = locateGatewayPod(example).config!;
    expect(config.policy).toMatchObject({ directory: '/etc/mcp-auth-gateway/policies', watch: true });
    expect(config.audit).toMatchObject({ enabled: true, sink: 'stdout' });
  });

  it('serves probes and metrics on the admin port 9090: probed, scraped, admitted from monitoring only, never behind the Service', () => {
    const pod = locateGatewayPod(example);
    expect(pod.config?.metrics).toMatchObject({ enabled: true, port: 9090, host: '0.0.0.0', path: '/metrics' });
    expect(pod.gateway.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'admin', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect([pod.gateway.readinessProbe.httpGet, pod.gateway.livenessProbe.httpGet]).toEqual([
      { path: '/readyz', port: 'admin' },
      { path: '/healthz', port: 'admin' },
    ]);
    expect(pod.workload.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics' });
    expect(find(example, 'Service').spec.ports.map((p: Obj) => p.targetPort)).toEqual(['http']);
    expect(find(example, 'NetworkPolicy').spec.ingress[1]).toEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ protocol: 'TCP', port: 9090 }],
    });
  });

  it('binds session ids with the key of the mounted Secret, so every replica and a restarted gateway share it', () => {
    const binding = sessionBinding(example);
    expect(binding.referencesKeyFile).toBe(true);
    expect(binding.source).toEqual({ secretName: find(example, 'Secret').metadata.name, key: 'session-binding-key', value: 'example-only-replace-with-openssl-rand-base64-32' });
    expect(binding.sessions).toEqual({ bind: true, bindingSecrets: ['example-only-replace-with-openssl-rand-base64-32'] });
  });

  it('does not start without the session binding key in the Secret or without the Secret volume', () => {
    const withoutKey = clone(example);
    delete find(withoutKey, 'Secret').data['session-binding-key'];
    expect(sessionBinding(withoutKey).configError).toContain(`cannot read secret file ${SESSION_KEY_FILE} (ENOENT)`);
    const withoutMount = clone(example);
    const gateway = locateGatewayPod(withoutMount).gateway;
    gateway.volumeMounts = gateway.volumeMounts.filter((m: Obj) => m.name !== 'gateway-credentials');
    expect(sessionBinding(withoutMount).configError).toContain(`cannot read secret file ${SESSION_KEY_FILE} (ENOENT)`);
  });

  it('keeps the MCP server off the network: loopback bind, no ports, the same credential as the gateway', () => {
    const [server] = locateGatewayPod(example).upstreamContainers as [Obj];
    expect(server.env).toEqual(expect.arrayContaining([{ name: 'HOST', value: '127.0.0.1' }, { name: 'PORT', value: '3000' }]));
    expect(server.ports).toBeUndefined();
    const secretName = find(example, 'Secret').metadata.name;
    expect(server.env.find((e: Obj) => e.name === 'API_KEY').valueFrom.secretKeyRef).toEqual({ name: secretName, key: 'upstream-credential' });
  });
});

describe('deploy/kubernetes/components/gateway-sidecar on an existing workload', () => {
  // test/fixtures/kustomize/existing-app: other names, labels and ports than the base.
  it('is valid against the Kubernetes schemas', async () => {
    expect(await validateManifests(existingApp)).toEqual([]);
  });

  it('keeps every gateway pod rule', () => {
    expect(checkGatewayPod(existingApp, 'sidecar')).toEqual([]);
  });

  it('adds the gateway to the labelled Deployment, gives the server a preStop sleep and retargets the Service', () => {
    const pod = locateGatewayPod(existingApp);
    expect(pod.workload.metadata.name).toBe('tickets-api');
    expect((pod.pod.containers as Obj[]).map((c) => c.name).sort()).toEqual(['gateway', 'tickets']);
    const [server] = pod.upstreamContainers as [Obj];
    expect(server.lifecycle).toEqual({ preStop: { sleep: { seconds: 30 } } });
    expect(server.ports).toBeUndefined();
    expect(find(existingApp, 'Service').spec.ports).toEqual([{ name: 'mcp', port: 3000, targetPort: 'http' }]);
    expect((pod.pod.volumes as Obj[]).find((v) => v.name === 'gateway-config')?.configMap.name).toMatch(/^mcp-auth-gateway-config-[a-z0-9]{10}$/);
    expect(Object.keys(find(existingApp, 'ConfigMap', 'mcp-auth-gateway-policies').data)).toEqual(['baseline.yaml']);
  });

  it('reads the session binding key from the Secret the component mounts', () => {
    const binding = sessionBinding(existingApp);
    expect(binding.referencesKeyFile).toBe(true);
    expect(binding.source).toMatchObject({ secretName: find(existingApp, 'Secret').metadata.name, key: 'session-binding-key' });
    expect(binding.sessions?.bindingSecrets).toEqual(['fixture-only-session-key']);
  });
});

describe('the checks themselves can fail', () => {
  it('schema validation rejects an unknown field, a wrong type and a bad quantity', async () => {
    const manifests = clone(example);
    const gateway = locateGatewayPod(manifests).gateway;
    gateway.securityContext.readOnlyRootFileSystem = true; // misspelt
    gateway.ports[0].containerPort = '8080';
    gateway.resources.limits.memory = '256MB';
    const problems = (await validateManifests(manifests)).join('\n');
    expect(problems).toMatch(/readOnlyRootFileSystem\W+ does not exist in type 'SecurityContext'/);
    expect(problems).toMatch(/containerPort.*(integer|number)/);
    expect(problems).toMatch(/memory.*quantity/);
  });

  const breakers: Record<keyof typeof gatewayPodRules, (manifests: Array<Manifest & Obj>) => void> = {
    'config-valid': (m) => {
      const config = m.find((x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('mcp-auth-gateway-config'))!;
      config.data['gateway.yaml'] = config.data['gateway.yaml'].replace('host: 0.0.0.0', 'host: 127.0.0.1');
    },
    'only-gateway-exposed': (m) => {
      locateGatewayPod(m).upstreamContainers[0]!.ports = [{ containerPort: 3000 }];
    },
    'security-context': (m) => {
      delete locateGatewayPod(m).gateway.securityContext.readOnlyRootFilesystem;
    },
    resources: (m) => {
      delete locateGatewayPod(m).upstreamContainers[0]!.resources.limits;
    },
    probes: (m) => {
      // The main port no longer serves /readyz once metrics.port is set.
      locateGatewayPod(m).gateway.readinessProbe.httpGet.port = 'http';
    },
    'hot-reload-mounts': (m) => {
      const mount = locateGatewayPod(m).gateway.volumeMounts.find((v: Obj) => v.name === 'gateway-policies');
      mount.subPath = 'tickets.yaml';
    },
    'network-policy': (m) => {
      find(m, 'NetworkPolicy').spec.ingress[0].ports.push({ protocol: 'TCP', port: 3000 });
    },
    'disruption-budget': (m) => {
      find(m, 'PodDisruptionBudget').spec = { maxUnavailable: 0, selector: find(m, 'PodDisruptionBudget').spec.selector };
    },
    'shutdown-budget': (m) => {
      locateGatewayPod(m).pod.terminationGracePeriodSeconds = 20;
    },
    'policies-load': (m) => {
      // A typo in a scope: not in the catalog of 00-settings.yaml.
      const policies = find(m, 'ConfigMap', 'mcp-auth-gateway-policies');
      policies.data['10-tickets.yaml'] = policies.data['10-tickets.yaml'].replace('- name: get_ticket\n    scopes: [tickets:read]', '- name: get_ticket\n    scopes: [tickets:raed]');
    },
    'metrics-scrape': (m) => {
      locateGatewayPod(m).workload.spec.template.metadata.annotations['prometheus.io/port'] = '8080';
    },
    'session-binding': (m) => {
      // The key written into the ConfigMap instead of read from the Secret.
      const config = m.find((x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('mcp-auth-gateway-config'))!;
      config.data['gateway.yaml'] = config.data['gateway.yaml'].replace(`"\${file:${SESSION_KEY_FILE}}"`, 'a-key-in-the-configmap');
    },
    'audit-sink': (m) => {
      const config = m.find((x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('mcp-auth-gateway-config'))!;
      config.data['gateway.yaml'] = config.data['gateway.yaml'].replace('sink: stdout', 'sink: file\n  file: /var/log/mcp-auth-gateway/audit.jsonl');
    },
  };

  it.each(Object.keys(gatewayPodRules))('rule %s fires on a manifest set that breaks it', (rule) => {
    const manifests = clone(example);
    breakers[rule as keyof typeof gatewayPodRules](manifests);
    const findings = checkGatewayPod(manifests, 'sidecar');
    expect(findings.filter((f) => f.rule === rule), JSON.stringify(findings)).not.toEqual([]);
  });
});
