"use client";
import { ProfileSettings } from "@/components/ProfileSettings";

export default function ProfilePage() {
  return <ProfileSettings />;
}
