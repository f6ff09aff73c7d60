/**
 * What every rendered deployment of the gateway must keep, whether it comes from kustomize
 * or Helm, as a sidecar or standalone. Each rule returns findings (empty = kept), so the
 * tests can also prove that each rule fires on a manifest set that breaks it.
 */
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseConfigText, type GatewayConfig } from '../../src/config/index.js';
import { formatFinding, isPolicyFileName, parsePolicyFiles, PolicyError } from '../../src/policy/index.js';
import type { Manifest } from './kubernetes.js';
import { httpUpstream } from './http-upstream.js';

export type PodMode = 'sidecar' | 'standalone';
type Obj = Record<string, any>;

const DEFAULT_CONFIG_PATH = '/etc/mcp-auth-gateway/config/gateway.yaml';
export const POLICIES_DIR = '/etc/mcp-auth-gateway/policies';
const ALL_INTERFACES = ['0.0.0.0', '::'];
/** Time the process needs besides lame duck + drain (start of SIGTERM handling, exit). */
const SHUTDOWN_MARGIN_MS = 5000;

export interface GatewayPod {
  workload: Manifest & Obj;
  pod: Obj;
  gateway: Obj;
  upstreamContainers: Obj[];
  configPath: string;
  /** The config file as mounted, before `${…}` substitution. */
  configText?: string;
  config?: GatewayConfig;
  configError?: string;
}

function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

function secretData(secret: Obj | undefined, key: string): string | undefined {
  if (!secret) return undefined;
  if (secret.stringData?.[key] !== undefined) return String(secret.stringData[key]);
  if (secret.data?.[key] !== undefined) return Buffer.from(String(secret.data[key]), 'base64').toString('utf8');
  return undefined;
}

/** The Secrets a volume projects, with their `items` (key → file) when it lists them. */
function secretSourcesOf(volume: Obj | undefined): Array<{ name: string; items?: Obj[] }> {
  if (volume?.secret) return [{ name: volume.secret.secretName, items: volume.secret.items }];
  return ((volume?.projected?.sources ?? []) as Obj[]).filter((source) => source.secret).map((source) => ({ name: source.secret.name, items: source.secret.items }));
}

/**
 * The Secret key that the gateway container sees at `path`, through a `secret` or `projected`
 * volume, as the kubelet lays it out: a volume that lists `items` holds those keys only.
 * `value` is undefined when the Secret is not rendered (managed outside the chart, e.g.
 * existingSecret); `undefined` as a whole when no Secret volume puts a file at `path`.
 */
export function secretFileAt(
  manifests: Manifest[],
  pod: Pick<GatewayPod, 'pod' | 'gateway'>,
  path: string,
): { secretName: string; key: string; value?: string } | undefined {
  const mount = (pod.gateway.volumeMounts as Obj[] | undefined)?.find((m) => path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  if (!mount) return undefined;
  const file = posix.relative(mount.mountPath, path);
  const volume = (pod.pod.volumes as Obj[] | undefined)?.find((v) => v.name === mount.name);
  for (const source of secretSourcesOf(volume)) {
    const key = source.items ? source.items.find((item) => item.path === file)?.key : file;
    if (key === undefined) continue;
    const secret = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === source.name);
    if (!secret) return { secretName: source.name, key };
    const value = secretData(secret, key);
    if (value !== undefined) return { secretName: source.name, key, value };
  }
  return undefined;
}

/**
 * Finds the workload whose pod runs the gateway (the container named `gateway`) and loads its
 * config the way the gateway would: from the mounted ConfigMap, `${file:…}` from the mounted
 * Secret volumes (`secret` or `projected`), `${env:…}` from the container's plain env values.
 */
export function locateGatewayPod(manifests: Manifest[]): GatewayPod {
  const workloads = manifests.filter((m) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(m.kind)) as Array<Manifest & Obj>;
  const workload = workloads.find((w) => w.spec?.template?.spec?.containers?.some((c: Obj) => c.name === 'gateway'));
  if (!workload) throw new Error('no workload with a container named "gateway"');
  const pod = workload.spec.template.spec as Obj;
  const gateway = pod.containers.find((c: Obj) => c.name === 'gateway') as Obj;
  const upstreamContainers = (pod.containers as Obj[]).filter((c) => c !== gateway);
  const configPath = (gateway.env as Obj[] | undefined)?.find((e) => e.name === 'MCP_GATEWAY_CONFIG')?.value ?? DEFAULT_CONFIG_PATH;

  const volumes = new Map<string, Obj>((pod.volumes ?? []).map((v: Obj) => [v.name, v]));
  const mountFor = (path: string) =>
    (gateway.volumeMounts as Obj[] | undefined)?.find((m) => path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  const readMounted = (path: string): string => {
    const mount = mountFor(path);
    if (!mount) throw Object.assign(new Error(`nothing is mounted at ${posix.dirname(path)}`), { code: 'ENOENT' });
    const key = posix.relative(mount.mountPath, path);
    const volume = volumes.get(mount.name);
    if (volume?.configMap) {
      const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === volume.configMap.name) as Obj | undefined;
      if (configMap?.data?.[key] !== undefined) return String(configMap.data[key]);
    }
    const secretFile = secretFileAt(manifests, { pod, gateway }, path);
    // A Secret managed outside the chart (existingSecret) is not rendered; assume it has the key.
    if (secretFile) return secretFile.value ?? 'secret-provided-out-of-band';
    throw Object.assign(new Error(`${path} is not in the volume mounted at ${mount.mountPath}`), { code: 'ENOENT' });
  };
  const env = Object.fromEntries(((gateway.env as Obj[] | undefined) ?? []).filter((e) => typeof e.value === 'string').map((e) => [e.name, e.value]));
  for (const e of (gateway.env as Obj[] | undefined) ?? []) if (e.valueFrom) env[e.name] = 'value-from-reference';

  let configText: string | undefined;
  try {
    configText = readMounted(configPath);
    const config = parseConfigText(configText, configPath, { env, readFile: readMounted });
    return { workload, pod, gateway, upstreamContainers, configPath, configText, config };
  } catch (error) {
    return { workload, pod, gateway, upstreamContainers, configPath, configText, configError: (error as Error).message };
  }
}

type Rule = (manifests: Manifest[], pod: GatewayPod, mode: PodMode) => string[];

const gatewayPort = (pod: GatewayPod): Obj | undefined => (pod.gateway.ports as Obj[] | undefined)?.find((p) => p.name === 'http');
/** A port reference (a name of the gateway container's ports, or a number) as a number. */
const portNumber = (pod: GatewayPod, port: unknown): unknown =>
  typeof port === 'string' ? (pod.gateway.ports as Obj[] | undefined)?.find((p) => p.name === port)?.containerPort : port;
const matchesGatewayPort = (pod: GatewayPod, port: unknown) => port === 'http' || port === gatewayPort(pod)?.containerPort;
/** The admin port (config `metrics.port`), when the config has one. */
const adminPort = (pod: GatewayPod): number | undefined => pod.config?.metrics.port;
/** Where /healthz, /readyz and /metrics are served: the admin port when there is one, else the main port. */
const operationsPort = (pod: GatewayPod): unknown => adminPort(pod) ?? gatewayPort(pod)?.containerPort;
/** The ConfigMap volume mounted at `directory` in the gateway container, if any. */
function configMapAt(manifests: Manifest[], pod: GatewayPod, directory: string): { mount?: Obj; configMap?: Obj } {
  const mount = ((pod.gateway.volumeMounts ?? []) as Obj[]).find((m) => m.mountPath.replace(/\/$/, '') === directory.replace(/\/$/, ''));
  const volume = (pod.pod.volumes as Obj[] | undefined)?.find((v) => v.name === mount?.name);
  const configMap = volume?.configMap && (manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === volume.configMap.name) as Obj | undefined);
  return { mount, configMap };
}

/**
 * The policy files of a rendered ConfigMap as the gateway reads them from its volume: the keys
 * the loader accepts (`*.yaml`, not hidden), in name order, at `<directory>/<key>`.
 */
export function policyFilesOf(configMap: Obj, directory: string): Array<{ file: string; text: string }> {
  return Object.keys(configMap.data ?? {})
    .filter(isPolicyFileName)
    .sort()
    .map((key) => ({ file: posix.join(directory, key), text: String(configMap.data[key]) }));
}

export const gatewayPodRules = {
  /** The mounted config validates against today's schema, listens on all interfaces, on the declared port. */
  'config-valid': (_, pod) => {
    if (!pod.config) return [`gateway config ${pod.configPath} does not load: ${pod.configError}`];
    const problems: string[] = [];
    if (!ALL_INTERFACES.includes(pod.config.listen.host)) problems.push(`listen.host ${pod.config.listen.host} is unreachable from the Service`);
    if (pod.config.listen.port !== gatewayPort(pod)?.containerPort) {
      problems.push(`listen.port ${pod.config.listen.port} differs from the container port ${gatewayPort(pod)?.containerPort}`);
    }
    const admin = adminPort(pod);
    if (admin !== undefined) {
      // The kubelet and Prometheus reach the admin port on the pod IP.
      if (!ALL_INTERFACES.includes(pod.config.metrics.host)) problems.push(`metrics.host ${pod.config.metrics.host} is unreachable for probes and Prometheus`);
      if (!(pod.gateway.ports as Obj[] | undefined)?.some((p) => p.containerPort === admin)) problems.push(`metrics.port ${admin} is not a container port of the gateway`);
      if (admin === pod.config.listen.port) problems.push(`metrics.port ${admin} is listen.port`);
    }
    return problems;
  },

  /**
   * Only the gateway's MCP port is behind a Service (never the admin port with /metrics and
   * /readyz); the MCP server declares no port, and in a sidecar it is reached on loopback.
   */
  'only-gateway-exposed': (manifests, pod, mode) => {
    const problems = pod.upstreamContainers.filter((c) => (c.ports ?? []).length > 0).map((c) => `container ${c.name} exposes ports`);
    if (!gatewayPort(pod)) problems.push('the gateway has no port named http');
    const services = manifests.filter((m) => m.kind === 'Service' && labelsMatch((m as Obj).spec?.selector, pod.workload.spec.template.metadata?.labels)) as Obj[];
    if (services.length === 0) problems.push('no Service selects the pod');
    for (const service of services) {
      for (const port of service.spec.ports ?? []) {
        if (adminPort(pod) !== undefined && portNumber(pod, port.targetPort) === adminPort(pod)) {
          problems.push(`Service ${service.metadata.name} exposes the admin port ${port.targetPort} (/metrics, /readyz)`);
        } else if (!matchesGatewayPort(pod, port.targetPort)) problems.push(`Service ${service.metadata.name} targets port ${port.targetPort}, not the gateway`);
      }
    }
    if (mode === 'sidecar' && pod.config) {
      const upstream = new URL(httpUpstream(pod.config).url);
      if (!['127.0.0.1', 'localhost', '[::1]'].includes(upstream.hostname)) problems.push(`sidecar upstream ${upstream.href} is not on loopback`);
      if (pod.upstreamContainers.length === 0) problems.push('sidecar mode without the MCP server container');
    }
    return problems;
  },

  /** runAsNonRoot, read-only root, no privilege escalation, drop ALL, seccomp RuntimeDefault. */
  'security-context': (_, pod) => {
    const problems: string[] = [];
    const podContext = (pod.pod.securityContext ?? {}) as Obj;
    for (const container of pod.pod.containers as Obj[]) {
      const context = (container.securityContext ?? {}) as Obj;
      const where = `container ${container.name}`;
      if ((context.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
      if (context.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
      if (context.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (context.privileged === true) problems.push(`${where}: privileged`);
      if (!(context.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
      if ((context.capabilities?.add ?? []).length > 0) problems.push(`${where}: adds capabilities`);
      if ((context.seccompProfile ?? podContext.seccompProfile)?.type !== 'RuntimeDefault') problems.push(`${where}: seccomp profile is not RuntimeDefault`);
      if (context.runAsUser === 0 || podContext.runAsUser === 0) problems.push(`${where}: runs as uid 0`);
    }
    return problems;
  },

  /** Requests and limits on every container. */
  resources: (_, pod) =>
    (pod.pod.containers as Obj[]).flatMap((c) =>
      ['requests.cpu', 'requests.memory', 'limits.memory'].filter((path) => {
        const [kind, resource] = path.split('.') as [string, string];
        return c.resources?.[kind]?.[resource] === undefined;
      }).map((path) => `container ${c.name}: no resources.${path}`),
    ),

  /**
   * Readiness on /readyz (false while draining), liveness on /healthz (independent of the IdP),
   * on the port that serves them: the admin port when `metrics.port` is set, else the main port.
   */
  probes: (_, pod) => {
    const problems: string[] = [];
    const port = operationsPort(pod);
    const where = adminPort(pod) !== undefined ? `the admin port ${port}` : `the gateway port ${port}`;
    const check = (probe: Obj | undefined, path: string, name: string) => {
      if (probe?.httpGet?.path !== path || port === undefined || portNumber(pod, probe.httpGet.port) !== port) problems.push(`gateway ${name} is not GET ${path} on ${where}`);
    };
    check(pod.gateway.readinessProbe, '/readyz', 'readinessProbe');
    check(pod.gateway.livenessProbe, '/healthz', 'livenessProbe');
    return problems;
  },

  /** Config and policies are directory mounts (no subPath), so ConfigMap updates reach the pod. */
  'hot-reload-mounts': (_, pod) => {
    const mounts = (pod.gateway.volumeMounts ?? []) as Obj[];
    const problems = mounts.filter((m) => m.subPath || m.subPathExpr).map((m) => `mount ${m.name} uses subPath (never updated in place)`);
    const policies = mounts.find((m) => m.mountPath.replace(/\/$/, '') === POLICIES_DIR);
    const volume = (pod.pod.volumes as Obj[] | undefined)?.find((v) => v.name === policies?.name);
    if (!volume?.configMap) problems.push(`no ConfigMap volume mounted at ${POLICIES_DIR}`);
    if (!mounts.some((m) => pod.configPath.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))) problems.push(`nothing mounted at ${pod.configPath}`);
    return problems;
  },

  /** A NetworkPolicy admits ingress to the gateway's ports only (MCP, and the admin port if any). */
  'network-policy': (manifests, pod) => {
    const policies = manifests.filter((m) => m.kind === 'NetworkPolicy' && labelsMatch((m as Obj).spec?.podSelector?.matchLabels, pod.workload.spec.template.metadata?.labels)) as Obj[];
    if (policies.length === 0) return ['no NetworkPolicy selects the pod'];
    return policies.flatMap((policy) => {
      if (!(policy.spec.policyTypes ?? []).includes('Ingress')) return [`NetworkPolicy ${policy.metadata.name} does not govern Ingress`];
      return ((policy.spec.ingress ?? []) as Obj[]).flatMap((rule, index) => {
        const ports = (rule.ports ?? []) as Obj[];
        if (ports.length === 0) return [`NetworkPolicy ${policy.metadata.name} ingress[${index}] admits every port`];
        const admitted = (port: unknown) => matchesGatewayPort(pod, port) || (adminPort(pod) !== undefined && portNumber(pod, port) === adminPort(pod));
        return ports.filter((p) => !admitted(p.port)).map((p) => `NetworkPolicy ${policy.metadata.name} admits port ${p.port}`);
      });
    });
  },

  /** A PodDisruptionBudget keeps at least one pod during voluntary disruptions. */
  'disruption-budget': (manifests, pod) => {
    const budgets = manifests.filter((m) => m.kind === 'PodDisruptionBudget' && labelsMatch((m as Obj).spec?.selector?.matchLabels, pod.workload.spec.template.metadata?.labels)) as Obj[];
    if (budgets.length === 0) return ['no PodDisruptionBudget selects the pod'];
    const replicas = pod.workload.spec.replicas ?? 1;
    return budgets.flatMap((budget) => {
      const { minAvailable, maxUnavailable } = budget.spec;
      if (replicas < 2) return [`${replicas} replica(s): a PodDisruptionBudget cannot keep one up`];
      if (typeof minAvailable === 'number' && minAvailable >= replicas) return [`minAvailable ${minAvailable} blocks every eviction with ${replicas} replicas`];
      if (maxUnavailable === 0 || maxUnavailable === '0%') return ['maxUnavailable 0 blocks every eviction'];
      return [];
    });
  },

  /** lameDuckMs + drainTimeoutMs fit in the grace period; a sidecar's MCP server outlives the drain. */
  'shutdown-budget': (_, pod, mode) => {
    if (!pod.config) return ['config did not load'];
    const graceMs = (pod.pod.terminationGracePeriodSeconds ?? 30) * 1000;
    const { lameDuckMs, drainTimeoutMs } = pod.config.shutdown;
    const problems: string[] = [];
    if (lameDuckMs < 1000) problems.push(`shutdown.lameDuckMs ${lameDuckMs} gives endpoints no time to update`);
    if (lameDuckMs + drainTimeoutMs + SHUTDOWN_MARGIN_MS > graceMs) {
      problems.push(`lameDuckMs ${lameDuckMs} + drainTimeoutMs ${drainTimeoutMs} + ${SHUTDOWN_MARGIN_MS} ms margin exceed terminationGracePeriodSeconds ${graceMs / 1000}`);
    }
    if (mode === 'sidecar') {
      for (const container of pod.upstreamContainers) {
        const sleepMs = (container.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
        if (sleepMs < lameDuckMs + drainTimeoutMs) problems.push(`${container.name} preStop sleep ${sleepMs / 1000}s ends before the gateway's drain`);
        if (sleepMs >= graceMs) problems.push(`${container.name} preStop sleep leaves it no time to exit`);
      }
    }
    return problems;
  },

  /**
   * A policy is configured, read from the ConfigMap mounted at `policy.directory`, and that
   * ConfigMap's files load with the gateway's policy loader, without errors or warnings
   * (`policy validate --strict`). An invalid policy stops the gateway at start-up.
   */
  'policies-load': (manifests, pod) => {
    if (!pod.config) return ['config did not load'];
    const directory = pod.config.policy?.directory;
    if (!directory) return ['no policy.directory: every valid token may call every tool'];
    const { mount, configMap } = configMapAt(manifests, pod, directory);
    if (!mount) return [`nothing is mounted at policy.directory ${directory}`];
    if (!configMap) return [`no ConfigMap is mounted at policy.directory ${directory}`];
    const files = policyFilesOf(configMap, directory);
    if (files.length === 0) return [`ConfigMap ${configMap.metadata.name} holds no policy file (*.yaml): the gateway would not start`];
    try {
      return parsePolicyFiles(files).findings.map((finding) => `policy ${formatFinding(finding)}`);
    } catch (error) {
      if (error instanceof PolicyError) return error.findings.map((finding) => `policy ${formatFinding(finding)}`);
      throw error;
    }
  },

  /** Metrics are on, and the pod's prometheus.io annotations name the port and path that serve them. */
  'metrics-scrape': (_, pod) => {
    if (!pod.config) return ['config did not load'];
    if (!pod.config.metrics.enabled) return ['metrics.enabled is false'];
    const annotations = (pod.workload.spec.template.metadata?.annotations ?? {}) as Record<string, string>;
    const problems: string[] = [];
    if (annotations['prometheus.io/scrape'] !== 'true') problems.push('the pod is not annotated prometheus.io/scrape: "true"');
    if (Number(annotations['prometheus.io/port']) !== operationsPort(pod)) {
      problems.push(`prometheus.io/port ${annotations['prometheus.io/port']} is not the port serving metrics (${operationsPort(pod)})`);
    }
    if ((annotations['prometheus.io/path'] ?? '/metrics') !== pod.config.metrics.path) {
      problems.push(`prometheus.io/path ${annotations['prometheus.io/path']} is not metrics.path ${pod.config.metrics.path}`);
    }
    return problems;
  },

  /**
   * Audit records are written, to stdout (collected with the container's log) or to a file on
   * a writable volume: the root filesystem is read-only.
   */
  'audit-sink': (_, pod) => {
    if (!pod.config) return ['config did not load'];
    const { enabled, sink, file } = pod.config.audit;
    if (!enabled) return ['audit.enabled is false'];
    if (sink === 'stdout') return [];
    const path = posix.resolve(posix.dirname(pod.configPath), file ?? '');
    const mount = ((pod.gateway.volumeMounts ?? []) as Obj[]).find((m) => path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
    const volume = (pod.pod.volumes as Obj[] | undefined)?.find((v) => v.name === mount?.name);
    if (!mount || mount.readOnly || !(volume?.emptyDir || volume?.persistentVolumeClaim || volume?.ephemeral)) {
      return [`audit file ${path} is not on a writable volume (the root filesystem is read-only)`];
    }
    return [];
  },

  /**
   * Session binding keys (`sessions.bindingSecrets`), when configured, come from a Secret the
   * pod mounts (`${file:…}`) or references (`${env:…}` with secretKeyRef): every replica reads
   * the same keys, and none is written into the ConfigMap.
   */
  'session-binding': (manifests, pod) => {
    if (!pod.config) return ['config did not load'];
    if (!pod.config.sessions.bind) return [];
    const raw = (parseYaml(pod.configText ?? '') as Obj | null)?.sessions?.bindingSecrets as unknown[] | undefined;
    return (raw ?? []).flatMap((entry, index) => {
      const where = `sessions.bindingSecrets[${index}]`;
      const reference = /^\$\{(env|file):([^}]*)\}$/.exec(String(entry));
      if (!reference) return [`${where} is written in the config, not read from a Secret`];
      const name = reference[2]!;
      if (reference[1] === 'file') return secretFileAt(manifests, pod, name) ? [] : [`${where}: ${name} is not a key of a Secret mounted in the gateway`];
      const fromSecret = ((pod.gateway.env ?? []) as Obj[]).some((e) => e.name === name && e.valueFrom?.secretKeyRef);
      return fromSecret ? [] : [`${where}: environment variable ${name} does not come from a Secret (secretKeyRef)`];
    });
  },
} satisfies Record<string, Rule>;

export function checkGatewayPod(manifests: Manifest[], mode: PodMode): Array<{ rule: string; message: string }> {
  const pod = locateGatewayPod(manifests);
  return Object.entries(gatewayPodRules).flatMap(([rule, check]: [string, Rule]) => check(manifests, pod, mode).map((message) => ({ rule, message })));
}
