// Small DOM helpers shared by the page's sections.

/** The element with this id. */
export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** A count with thousands separators. */
export const n = (v: number) => v.toLocaleString('en-US');

/** Shows an error in the page (one sentence), or hides it. */
export function showError(id: string, e: unknown): void {
  const el = $<HTMLParagraphElement>(id);
  el.hidden = e === null;
  el.textContent = e === null ? '' : String((e as Error).message ?? e);
}

/** A section's progress line and bar: `text` with done/total, or hidden when `total` is 0. */
export function showProgress(prefix: string, text: string, done = 0, total = 0): void {
  $(`${prefix}-status`).textContent = text;
  const bar = $<HTMLProgressElement>(`${prefix}-progress`);
  bar.hidden = total === 0;
  bar.max = Math.max(total, 1);
  bar.value = done;
}

/** The backends a worker can compute on (all registered but the shapes-only one), as <option>s. */
export function fillBackends(select: HTMLSelectElement, names: readonly string[]): void {
  for (const b of names.filter((x) => x !== 'meta')) select.add(new Option(b, b));
}

/** A worker of the page (dist/web/worker.js, an ES module). */
export function startWorker(): Worker {
  return new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
}

/** Lets files be dropped anywhere on `section`: `onFiles` gets them (the page is not navigated away). */
export function acceptDrops(section: HTMLElement, onFiles: (files: File[]) => void): void {
  section.addEventListener('dragover', (e) => {
    e.preventDefault();
    section.classList.add('dropping');
  });
  section.addEventListener('dragleave', () => section.classList.remove('dropping'));
  section.addEventListener('drop', (e) => {
    e.preventDefault();
    section.classList.remove('dropping');
    onFiles([...(e.dataTransfer?.files ?? [])]);
  });
}

/** Puts `files` into a file input, as if chosen in its dialog. */
export function setFiles(input: HTMLInputElement, files: File[]): void {
  const t = new DataTransfer();
  for (const f of files) t.items.add(f);
  input.files = t.files;
}
