"use client";
import { SignInForm, SignedOutOnly } from "@/components/AuthForms";

export default function Page() {
  return (
    <SignedOutOnly>
      <SignInForm />
    </SignedOutOnly>
  );
}
