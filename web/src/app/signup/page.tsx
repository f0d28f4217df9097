"use client";
import { SignUpForm, SignedOutOnly } from "@/components/AuthForms";

export default function Page() {
  return (
    <SignedOutOnly>
      <SignUpForm />
    </SignedOutOnly>
  );
}
