/**
 * End-to-end helpers, one module per role: the editor and its processes (editor.ts), the pool's side
 * through the CLI (session.ts), what a person sees in the workbench (views.ts, workbench-extras.ts),
 * and what a finished run must look like (expected.ts).
 */
export * from './editor';
export * from './expected';
export * from './session';
export * from './views';
