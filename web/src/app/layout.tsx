import type { Metadata, Viewport } from "next";
import "./globals.css";
import { CONFIG_ELEMENT_ID, configFromEnv } from "@/lib/config";

// Rendered per request so WEB_API_URL / WEB_CABLE_URL are read at run time.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Chatterly", description: "Team chat" };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  const cfg = JSON.stringify(configFromEnv(process.env)).replace(/</g, "\\u003c");
  return (
    <html lang="en">
      <body className="bg-white text-slate-900 antialiased">
        <script id={CONFIG_ELEMENT_ID} type="application/json" dangerouslySetInnerHTML={{ __html: cfg }} />
        {children}
      </body>
    </html>
  );
}
