export function helpRequest(args: readonly string[]): string | null;
export function memoRequest(args: readonly string[]): string | null;
export function memoEnvironment(): string;
export function cachedHelp(args: readonly string[], file?: string): string | null;
export function writeHelpCache(texts: Record<string, string>, file?: string): void;
