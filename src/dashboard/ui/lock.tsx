/** A padlock drawn inline (SVG), so the mTLS badge needs no emoji font on the viewer's machine. */
export function Lock() {
  return (
    <svg class="lock" viewBox="0 0 12 14" width="10" height="12" aria-hidden="true">
      <path d="M3 6V4a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="1.6" />
      <rect x="1" y="6" width="10" height="7.5" rx="1.5" fill="currentColor" />
    </svg>
  );
}
