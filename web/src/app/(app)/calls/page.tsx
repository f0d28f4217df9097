"use client";
import { CallHistory } from "@/components/CallHistory";

export default function CallsPage() {
  return <CallHistory />;
}
