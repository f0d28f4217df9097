// Runtime configuration: the api and cable URLs are read from the
// environment by the server on every request (see app/layout.tsx) and handed
// to the browser as inline JSON, so one build serves any environment.

export interface RuntimeConfig {
  apiUrl: string;
  cableUrl: string;
}

export const CONFIG_ELEMENT_ID = "chatterly-config";

/** The config for this process's environment (server side only). */
export function configFromEnv(env: Record<string, string | undefined>): RuntimeConfig {
  const apiUrl = env.WEB_API_URL || `http://${env.API_ADDR || "127.0.0.1:8080"}`;
  const cableUrl = env.WEB_CABLE_URL || `ws://${env.EDGE_ADDR || "127.0.0.1:8081"}/cable`;
  return { apiUrl: apiUrl.replace(/\/+$/, ""), cableUrl };
}

/** The config the server put into the page (browser side). */
export function configFromPage(): RuntimeConfig {
  const el = document.getElementById(CONFIG_ELEMENT_ID);
  if (!el?.textContent) throw new Error("chatterly: runtime config missing from the page");
  return JSON.parse(el.textContent) as RuntimeConfig;
}
