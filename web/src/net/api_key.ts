// The API key, asked for once when the server answers 401 and kept in
// local storage. Storage can be unavailable (private modes, file://), so
// the key then lives for this page only.
const STORAGE_KEY = 'scribepod.apiKey';

let memory: string | null = null;

export function loadApiKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? memory;
  } catch {
    return memory;
  }
}

export function saveApiKey(key: string): void {
  memory = key;
  try {
    localStorage.setItem(STORAGE_KEY, key);
  } catch {
    // Kept in memory only.
  }
}
