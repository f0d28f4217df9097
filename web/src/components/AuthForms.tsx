"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { Problem } from "@/lib/types";
import { authStore } from "@/state/stores";
import { Field } from "./Field";
import { useAuth } from "./useAuth";

function useProblem() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const fieldError = (...names: string[]) => (problem?.field && names.includes(problem.field) ? problem.detail : undefined);
  return { problem, setProblem, fieldError, general: problem && !problem.field ? problem.detail : null };
}

function Card({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main className="flex min-h-full items-center justify-center bg-slate-50 p-4">
      <div className="w-full max-w-sm rounded-lg bg-white p-6 shadow">
        <h1 className="mb-4 text-2xl font-semibold">{title}</h1>
        {children}
      </div>
    </main>
  );
}

function Submit({ busy, children }: { busy: boolean; children: React.ReactNode }) {
  return (
    <button type="submit" disabled={busy} className="rounded bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60">
      {children}
    </button>
  );
}

/** Shows a signed-out page (sign-in, sign-up); a signed-in visitor goes to the app. */
export function SignedOutOnly({ children }: { children: React.ReactNode }) {
  const { status } = useAuth();
  const router = useRouter();
  useEffect(() => {
    if (status === "signedIn") router.replace("/");
  }, [status, router]);
  return status === "signedIn" ? null : <>{children}</>;
}

export function SignInForm() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const { setProblem, fieldError, general } = useProblem();
  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    const p = await authStore.getState().signIn(String(f.get("login") ?? ""), String(f.get("password") ?? ""));
    setBusy(false);
    setProblem(p);
    if (!p && window.location.pathname === "/signin") router.replace("/");
  };
  return (
    <Card title="Sign in to Chatterly">
      <form onSubmit={submit} className="flex flex-col gap-4" aria-label="Sign in">
        <Field label="Email or username" name="login" type="text" autoComplete="username" required autoFocus error={fieldError("login")} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required error={fieldError("password")} />
        {general && (
          <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">
            {general}
          </p>
        )}
        <Submit busy={busy}>Sign in</Submit>
      </form>
      <p className="mt-4 text-sm">
        New here?{" "}
        <Link href="/signup" className="text-indigo-700 underline">
          Create an account
        </Link>
      </p>
    </Card>
  );
}

export function SignUpForm() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const { problem, setProblem, fieldError, general } = useProblem();
  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const display = String(f.get("display_name") ?? "").trim();
    setBusy(true);
    const p = await authStore.getState().signUp({
      email: String(f.get("email") ?? ""),
      username: String(f.get("username") ?? ""),
      password: String(f.get("password") ?? ""),
      ...(display ? { display_name: display } : {}),
    });
    setBusy(false);
    setProblem(p);
    if (!p) router.replace("/");
  };
  const known = ["email", "username", "display_name", "password"];
  return (
    <Card title="Create your account">
      <form onSubmit={submit} className="flex flex-col gap-4" aria-label="Create account">
        <Field label="Email" name="email" type="email" autoComplete="email" required error={fieldError("email")} />
        <Field label="Username" name="username" type="text" autoComplete="username" required error={fieldError("username")} />
        <Field label="Display name" name="display_name" type="text" autoComplete="name" error={fieldError("display_name")} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" required minLength={8} error={fieldError("password")} />
        {(general || (problem?.field && !known.includes(problem.field))) && (
          <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">
            {problem?.detail}
          </p>
        )}
        {problem?.field && known.includes(problem.field) && (
          <p role="alert" className="sr-only">
            {problem.detail}
          </p>
        )}
        <Submit busy={busy}>Create account</Submit>
      </form>
      <p className="mt-4 text-sm">
        Have an account?{" "}
        <Link href="/signin" className="text-indigo-700 underline">
          Sign in
        </Link>
      </p>
    </Card>
  );
}
