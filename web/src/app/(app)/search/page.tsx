"use client";
import { SearchPanel } from "@/components/SearchPanel";

export default function SearchPage() {
  return <SearchPanel />;
}
