/** The Deno Jupyter kernel's display API, where this code runs inside the kernel. */
export interface Jupyter {
  display(obj: unknown, opts?: { raw?: boolean; update?: boolean; display_id?: string }): Promise<void>;
}

/** Deno.jupyter, or null outside the kernel (its getter throws there). */
export function jupyter(): Jupyter | null {
  try {
    return (Deno as unknown as { jupyter?: Jupyter }).jupyter ?? null;
  } catch {
    return null;
  }
}
