export function helpRequest(args: readonly string[]): string | null;
export function memoRequest(args: readonly string[]): string | null;
export function helpCacheKey(): string;
export function cachedHelp(args: readonly string[]): string | null;
export function writeHelpCache(texts: Record<string, string>): void;
