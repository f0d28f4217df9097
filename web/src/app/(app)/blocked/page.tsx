"use client";
import { BlockedPeople } from "@/components/BlockedPeople";

export default function BlockedPage() {
  return <BlockedPeople />;
}
