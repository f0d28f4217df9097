"use client";
import { SignInForm } from "@/components/AuthForms";
import { Shell } from "@/components/Shell";
import { useAuth } from "@/components/useAuth";

/** Signed out: the sign-in form itself; signed in: the app shell around the page. */
export default function AppLayout({ children }: { children: React.ReactNode }) {
  const { status } = useAuth();
  if (status === "unknown") {
    return (
      <p role="status" className="p-6 text-slate-500">
        Loading…
      </p>
    );
  }
  if (status === "signedOut") return <SignInForm />;
  return <Shell>{children}</Shell>;
}
