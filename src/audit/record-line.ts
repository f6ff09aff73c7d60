import type { AuditRecord } from './audit-record.js';
import { RedactedArguments } from './redact.js';

/**
 * One record as its JSON line, the same bytes `JSON.stringify(record) + "\n"` gives (a unit test
 * holds the two equal), written member by member. Why by hand: JSON.stringify walks every
 * member of every record, though the largest parts, the caller (`who`) and the matched rules,
 * are the same objects from one request to the next (cached per principal and per rule, and
 * frozen); their JSON is kept here and reused. Members appear in the order the record is built.
 */
export function recordLine(record: AuditRecord): string {
  let line = `{"schema":"${record.schema}","time":"${record.time}","eventId":"${record.eventId}","event":"${record.event}","requestId":${text(record.requestId)}`;
  if (record.sessionId !== undefined) line += `,"sessionId":${text(record.sessionId)}`;
  if (record.traceId !== undefined) line += `,"traceId":${text(record.traceId)}`;
  if (record.who !== undefined) line += `,"who":${cachedJson(record.who)}`;
  line += `,"source":${sourceJson(record.source)},"what":${whatJson(record.what)}`;
  if (record.decision !== undefined) line += `,"decision":${decisionJson(record.decision)}`;
  line += `,"outcome":${outcomeJson(record.outcome)},"latencyMs":${milliseconds(record.latencyMs)}`;
  if (record.upstreamMs !== undefined) line += `,"upstreamMs":${milliseconds(record.upstreamMs)}`;
  if (record.upstream !== undefined) line += `,"upstream":${JSON.stringify(record.upstream)}`;
  if (record.presentedToken !== undefined) line += `,"presentedToken":${JSON.stringify(record.presentedToken)}`;
  if (record.correlatesWith !== undefined) line += `,"correlatesWith":${text(record.correlatesWith)}`;
  if (record.elevation !== undefined) line += `,"elevation":${JSON.stringify(record.elevation)}`;
  return `${line}}\n`;
}

function sourceJson(source: AuditRecord['source']): string {
  if (source.ip === undefined) return source.userAgent === undefined ? '{}' : `{"userAgent":${text(source.userAgent)}}`;
  return source.userAgent === undefined ? `{"ip":${text(source.ip)}}` : `{"ip":${text(source.ip)},"userAgent":${text(source.userAgent)}}`;
}

function whatJson(what: AuditRecord['what']): string {
  let json = `{"httpMethod":${text(what.httpMethod)}`;
  if (what.jsonrpcId !== undefined) json += `,"jsonrpcId":${JSON.stringify(what.jsonrpcId)}`;
  if (what.method !== undefined) json += `,"method":${text(what.method)}`;
  if (what.target !== undefined) json += `,"target":{"kind":${text(what.target.kind)},"name":${text(what.target.name)}}`;
  if (what.arguments !== undefined) json += `,"arguments":${what.arguments instanceof RedactedArguments ? what.arguments.json : JSON.stringify(what.arguments)}`;
  return `${json}}`;
}

function decisionJson(decision: NonNullable<AuditRecord['decision']>): string {
  let json = `{"effect":"${decision.effect}","reason":${text(decision.reason)},"rules":[`;
  for (let index = 0; index < decision.rules.length; index += 1) json += (index > 0 ? ',' : '') + cachedJson(decision.rules[index]!);
  json += `],"requiredScopes":${strings(decision.requiredScopes)},"missingScopes":${strings(decision.missingScopes)}`;
  if (decision.failedConditions !== undefined) json += `,"failedConditions":${strings(decision.failedConditions)}`;
  return `${json},"policyVersion":${text(decision.policyVersion)}}`;
}

function outcomeJson(outcome: AuditRecord['outcome']): string {
  let json = `{"status":${number(outcome.status)},"result":"${outcome.result}"`;
  if (outcome.errorCode !== undefined) json += `,"errorCode":${JSON.stringify(outcome.errorCode)}`;
  if (outcome.reason !== undefined) json += `,"reason":${text(outcome.reason)}`;
  return `${json}}`;
}

/** JSON of a frozen part shared by many records (a `who`, a rule), made once; other parts each time. */
function cachedJson(part: object): string {
  if (!Object.isFrozen(part)) return JSON.stringify(part);
  let json = jsonByPart.get(part);
  if (json === undefined) {
    json = JSON.stringify(part);
    jsonByPart.set(part, json);
  }
  return json;
}

const jsonByPart = new WeakMap<object, string>();

function strings(list: readonly string[]): string {
  return list.length === 0 ? '[]' : JSON.stringify(list);
}

/** Any string from outside the gateway is escaped the one way JSON.stringify does it. */
function text(value: string): string {
  return JSON.stringify(value);
}

function number(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * A duration the trail rounded to the microsecond, written from integers: the same text
 * JSON.stringify gives (the shortest decimal that reads back as that double has at most three
 * decimals), without V8's float-to-text, which was a tenth of this serializer's time.
 */
export function milliseconds(value: number): string {
  const micros = Math.round(value * 1000);
  if (micros < 0 || !Number.isSafeInteger(micros) || micros / 1000 !== value) return number(value);
  const whole = Math.floor(micros / 1000);
  const fraction = micros - whole * 1000;
  if (fraction === 0) return String(whole);
  if (fraction % 100 === 0) return `${whole}.${fraction / 100}`;
  if (fraction % 10 === 0) return `${whole}.${fraction < 100 ? '0' : ''}${fraction / 10}`;
  return `${whole}.${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}`;
}
