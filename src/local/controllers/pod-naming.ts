/** Kubernetes-style pod names: `<deployment>-<template hash>-<random suffix>`. */
import { createHash, randomInt } from 'node:crypto';
import type { PodTemplateSpec } from '../../api/types.js';
import { canonicalJson } from '../store/index.js';

/** The alphabet Kubernetes uses for generated names: no vowels (no words), no look-alikes (0/1/3). */
export const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const TEMPLATE_HASH_LENGTH = 10;
const SUFFIX_LENGTH = 5;

/** A stable 10-character hash of a pod template: same template, same hash, across restarts. */
export function templateHash(template: PodTemplateSpec): string {
  const digest = createHash('sha256').update(canonicalJson(template)).digest();
  let out = '';
  for (let i = 0; i < TEMPLATE_HASH_LENGTH; i++) out += NAME_ALPHABET[digest[i]! % NAME_ALPHABET.length];
  return out;
}

export function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) out += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return out;
}

/** A pod name not in `taken`. */
export function newPodName(deployment: string, hash: string, taken: (name: string) => boolean): string {
  for (;;) {
    const name = `${deployment}-${hash}-${randomSuffix()}`;
    if (!taken(name)) return name;
  }
}
