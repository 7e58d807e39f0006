/**
 * Commands taken from a seed's text as written: the `kubectl apply … -f - <<EOF … EOF` here-documents
 * (found by the name of the resource they declare), run with real kubectl as the seed writes them.
 */
export function seedSection(text: string, title: string): string {
  const start = text.indexOf(`\n${title}`);
  if (start < 0) throw new Error(`seed has no section "${title}"`);
  const next = /\n\d+ - [A-Z]/g;
  next.lastIndex = start + title.length + 1;
  const m = next.exec(text);
  return text.slice(start, m ? m.index : text.length);
}

/** The here-document command whose YAML declares `kind` named `name`, ready for bash. */
export function heredocCommand(section: string, kind: string, name: string): string {
  for (const m of section.matchAll(/^kubectl apply[^\n]*<<EOF\n([\s\S]*?)\nEOF$/gm)) {
    if (new RegExp(`^kind: ${kind}$`, 'm').test(m[1]!) && new RegExp(`^  name: ${name}$`, 'm').test(m[1]!)) return m[0];
  }
  throw new Error(`no here-document for ${kind} ${name}`);
}
