/** Reads the targets of kubectl-style `-f` flags (files, directories, `-`, URLs) into manifest documents. */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MeshError } from '../lib/errors.js';
import type { ManifestDocument } from '../local/api-contract.js';
import { parseManifests } from './parse.js';

/** The extensions kubectl picks up when `-f` names a directory. */
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Loads every path in order. A directory contributes its *.yaml, *.yml and *.json files, sorted by
 * name and not recursively (kubectl without `-R`); `-` reads stdin; http(s) URLs are fetched,
 * because the seeds apply sample manifests straight from GitHub.
 */
export async function loadManifests(paths: string[], readStdin: () => Promise<string>): Promise<ManifestDocument[]> {
  const docs: ManifestDocument[] = [];
  for (const path of paths) {
    for (const { source, text } of await readSources(path, readStdin)) docs.push(...parseManifests(text, source));
  }
  return docs;
}

interface SourceText {
  source: string;
  text: string;
}

async function readSources(path: string, readStdin: () => Promise<string>): Promise<SourceText[]> {
  if (path === '-') return [{ source: '-', text: await readStdin() }];
  if (/^https?:\/\//i.test(path)) return [{ source: path, text: await fetchText(path) }];
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') throw new MeshError('MESH_ERR_USAGE', `the path "${path}" does not exist`);
    throw readError(path, e);
  });
  if (!info.isDirectory()) return [{ source: path, text: await readText(path) }];
  const names = (await readdir(path)).filter((n) => MANIFEST_EXTENSIONS.has(extname(n))).sort();
  const out: SourceText[] = [];
  for (const name of names) {
    const file = join(path, name);
    if ((await stat(file)).isFile()) out.push({ source: file, text: await readText(file) });
  }
  return out;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw readError(path, e as NodeJS.ErrnoException);
  }
}

function readError(path: string, e: NodeJS.ErrnoException): MeshError {
  return new MeshError('MESH_ERR_USAGE', `error reading "${path}": ${e.code ?? e.message}`, { cause: e });
}

async function fetchText(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new MeshError('MESH_ERR_USAGE', `unable to read URL "${url}": ${(e as Error).message}`, { cause: e });
  }
  if (!response.ok) {
    const status = `${response.status} ${response.statusText}, status code=${response.status}`;
    throw new MeshError('MESH_ERR_USAGE', `unable to read URL "${url}", server reported ${status}`);
  }
  return response.text();
}
