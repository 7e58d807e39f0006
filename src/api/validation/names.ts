/** Kubernetes name, label and key syntax rules, as predicates returning an error message or undefined. */

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const QUALIFIED_PART_ALLOWED = "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Which rule an object's `metadata.name` follows (Kubernetes differs per kind). */
export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label';

/** What each rule allows, for the message that follows `"x" is not a valid …:`. */
const NAME_RULES: Record<NameRule, { test: (v: string) => boolean; what: string; allowed: string }> = {
  'dns1123-label': {
    test: (v) => v.length <= 63 && DNS1123_LABEL.test(v),
    what: 'DNS-1123 label',
    allowed: "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
  },
  'dns1035-label': {
    test: (v) => v.length <= 63 && DNS1035_LABEL.test(v),
    what: 'DNS-1035 label',
    allowed: "use at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
  },
  'dns1123-subdomain': {
    test: (v) => v.length <= 253 && DNS1123_SUBDOMAIN.test(v),
    what: 'DNS-1123 subdomain',
    allowed: "use at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
  },
};

export function checkDnsName(value: string, rule: NameRule): string | undefined {
  const { test, what, allowed } = NAME_RULES[rule];
  return test(value) ? undefined : `${JSON.stringify(value)} is not a valid ${what}: ${allowed}`;
}

/** Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
export function checkQualifiedName(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const shown = JSON.stringify(key);
  if (prefix !== undefined && (prefix.length === 0 || checkDnsName(prefix, 'dns1123-subdomain'))) {
    return `${shown} is not a valid key: the prefix before '/' must be a DNS-1123 subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART.test(name)) {
    return `${shown} is not a valid key: the name must be ${QUALIFIED_PART_ALLOWED}`;
  }
  return undefined;
}

export function checkLabelValue(value: string): string | undefined {
  if (value === '' || (value.length <= 63 && QUALIFIED_NAME_PART.test(value))) return undefined;
  return `${JSON.stringify(value)} is not a valid label value: use ${QUALIFIED_PART_ALLOWED}`;
}

/** Keys of Secret and ConfigMap data (they become file names when mounted). */
export function checkConfigKey(key: string): string | undefined {
  if (key.length <= 253 && CONFIG_KEY.test(key) && key !== '.' && key !== '..') return undefined;
  return `${JSON.stringify(key)} is not a valid key: use letters, digits, '-', '_' or '.'`;
}

/** Named ports (container port names, a Service's string targetPort). */
export function checkPortName(name: string): string | undefined {
  if (name.length <= 15 && IANA_SVC_NAME.test(name) && /[a-z]/.test(name) && !name.includes('--')) return undefined;
  return `${JSON.stringify(name)} is not a valid port name: use at most 15 lowercase letters, digits and '-', with at least one letter`;
}
