/**
 * deploy/kubernetes rendered by the real kustomize (kubectl kustomize), validated against the
 * Kubernetes schemas and checked for the invariants of test/helpers/gateway-pod-rules.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGatewayPod, gatewayPodRules, locateGatewayPod } from '../helpers/gateway-pod-rules.js';
import { find, renderKustomize, validateManifests, type Manifest } from '../helpers/kubernetes.js';

type Obj = Record<string, any>;
const clone = (manifests: Manifest[]) => structuredClone(manifests) as Array<Manifest & Obj>;

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

  it('refuses to start until the credential is supplied (the base Secret is empty on purpose)', () => {
    const pod = locateGatewayPod(base);
    expect(pod.config).toBeUndefined();
    expect(pod.configError).toMatch(/upstream\.credential\.value/);
  });

  it('keeps every gateway pod rule once the credential is supplied', () => {
    const manifests = clone(base);
    find(manifests, 'Secret').data = { 'upstream-credential': Buffer.from('k').toString('base64') };
    expect(checkGatewayPod(manifests, 'sidecar')).toEqual([]);
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
    expect((pod.config?.upstream.credential as { value?: string } | undefined)?.value).toBe('example-only-not-a-real-key');
    const policy = find(example, 'NetworkPolicy');
    expect(policy.spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
    ]);
  });

  it('gives the gateway config a content-hashed name (a change rolls the pods) but not the hot-reloaded policies', () => {
    const names = example.filter((m) => m.kind === 'ConfigMap').map((m) => m.metadata.name);
    expect(names).toContainEqual(expect.stringMatching(/^mcp-auth-gateway-config-[a-z0-9]{10}$/));
    expect(names).toContain('mcp-auth-gateway-policies');
    const volumes = locateGatewayPod(example).pod.volumes as Obj[];
    expect(volumes.map((v) => v.configMap?.name).filter(Boolean).sort()).toEqual(names.sort());
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
      locateGatewayPod(m).gateway.readinessProbe.httpGet.path = '/healthz';
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
  };

  it.each(Object.keys(gatewayPodRules))('rule %s fires on a manifest set that breaks it', (rule) => {
    const manifests = clone(example);
    breakers[rule as keyof typeof gatewayPodRules](manifests);
    const findings = checkGatewayPod(manifests, 'sidecar');
    expect(findings.filter((f) => f.rule === rule), JSON.stringify(findings)).not.toEqual([]);
  });
});
