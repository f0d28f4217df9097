"use client";
import { SavedMessages } from "@/components/SavedMessages";

export default function SavedPage() {
  return <SavedMessages />;
}
